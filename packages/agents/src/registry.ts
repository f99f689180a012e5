import { OrchError } from '@orch/core';
import { aiderAdapter } from './aider.js';
import { claudeAdapter } from './claude.js';
import { codexAdapter } from './codex.js';
import { commandAdapter } from './command.js';
import { geminiAdapter } from './gemini.js';
import { shellAdapter } from './shell.js';
import type { AgentAdapter } from './types.js';

const ADAPTERS: readonly AgentAdapter[] = [
  claudeAdapter,
  codexAdapter,
  geminiAdapter,
  aiderAdapter,
  commandAdapter,
  shellAdapter,
];

export function listAdapters(): AgentAdapter[] {
  return [...ADAPTERS];
}

export function getAdapter(name: string): AgentAdapter {
  const found = ADAPTERS.find((a) => a.name === name);
  if (found) return found;
  const known = ADAPTERS.map((a) => a.name).join(', ');
  throw new OrchError('ERR_ORCH_UNKNOWN_AGENT', `unknown agent "${name}"; known agents: ${known}`, {
    hint: "pick one of the known agents with --agent, agents.default in the config, or a task's agent field",
    details: { agent: name, known: ADAPTERS.map((a) => a.name) },
  });
}

/**
 * A user-defined agent: `agents.command` in the config is an argv template; `{prompt_file}`,
 * `{task}` and `{worktree}` are substituted inside each argument. No shell is involved, so values
 * with spaces or quotes stay one argument each.
 */
import { OrchError } from '@orch/core';
import { createPlainParser } from './plain.js';
import { renderEvent } from './summary.js';
import type { AgentAdapter, AgentCommand, AgentLaunchContext } from './types.js';

const PLACEHOLDER = /\{(prompt_file|task|worktree)\}/g;

export function buildCustomCommand(ctx: AgentLaunchContext): AgentCommand {
  const template = ctx.config.agents.command;
  if (!template || template.length === 0 || !template[0]) {
    throw new OrchError(
      'ERR_ORCH_AGENT_COMMAND_MISSING',
      'the `command` agent needs agents.command in the config',
      {
        hint: 'set it in .claude-agents.yaml, e.g. agents: { command: ["my-agent", "--prompt-file", "{prompt_file}"] }',
      },
    );
  }
  const values: Record<string, string> = {
    prompt_file: ctx.promptFile,
    task: ctx.taskId,
    worktree: ctx.worktree,
  };
  // One pass per argument, so a substituted value is never scanned for placeholders again.
  const argv = template.map((arg) => arg.replace(PLACEHOLDER, (_, key: string) => values[key] ?? ''));
  return { argv, env: { ...ctx.env }, unsetEnv: [] };
}

export const commandAdapter: AgentAdapter = {
  name: 'command',
  done: 'process-exit',
  structuredOutput: false,
  buildCommand: buildCustomCommand,
  createParser: createPlainParser,
  render: renderEvent,
};

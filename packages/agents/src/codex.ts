/**
 * OpenAI Codex CLI: `codex exec --json --sandbox workspace-write -`, the prompt on stdin ("-").
 * The parser reads the exec JSONL events (thread.started, item.*, turn.completed|failed, error).
 */
import type { Usage } from '@orch/core';
import { contextWindowFor } from './context-window.js';
import { lineParser, parseJsonLine, stripAnsi } from './lines.js';
import { isRateLimitText, resetTimeFrom } from './rate-limit.js';
import { oneLine, renderEvent } from './summary.js';
import type { AgentAdapter, AgentCommand, AgentEvent, AgentLaunchContext, OutputParser } from './types.js';

export function buildCodexCommand(ctx: AgentLaunchContext): AgentCommand {
  const model = ctx.model ?? ctx.config.agents.model;
  const sandbox = ctx.role === 'reviewer' ? 'read-only' : 'workspace-write';
  const argv = ['codex', 'exec', '--json', '--sandbox', sandbox, '--skip-git-repo-check'];
  if (model) argv.push('--model', model);
  argv.push(...(ctx.config.agents.extra_args['codex'] ?? []), '-');
  return { argv, env: { ...ctx.env }, unsetEnv: [], stdinFile: ctx.promptFile };
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export function createCodexParser(): OutputParser {
  const total = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0 };
  let turns = 0;
  let lastText: string | undefined;
  let finished = false;

  const failure = (message: string): AgentEvent[] =>
    isRateLimitText(message)
      ? [
          {
            type: 'rate_limit',
            message,
            ...(resetTimeFrom(message) ? { resetAt: resetTimeFrom(message) } : {}),
          },
        ]
      : [{ type: 'error', message }];

  const onLine = (line: string): AgentEvent[] => {
    const ev = parseJsonLine(line);
    if (!ev) return line.trim() ? [{ type: 'text', text: stripAnsi(line).trim() }] : [];
    switch (ev['type']) {
      case 'thread.started':
        return [
          { type: 'started', ...(typeof ev['thread_id'] === 'string' ? { sessionId: ev['thread_id'] } : {}) },
        ];
      case 'item.completed': {
        const item = obj(ev['item']);
        const kind = item?.['type'] ?? item?.['item_type'];
        if (kind === 'agent_message' && typeof item?.['text'] === 'string') {
          lastText = item['text'];
          return [{ type: 'text', text: item['text'] }];
        }
        if (kind === 'command_execution')
          return [{ type: 'tool', name: 'shell', summary: oneLine(String(item?.['command'] ?? '')) }];
        if (kind === 'file_change') {
          const changes = Array.isArray(item?.['changes']) ? (item['changes'] as Json[]) : [];
          return [
            {
              type: 'tool',
              name: 'edit',
              summary: oneLine(changes.map((c) => String(c['path'] ?? '')).join(' ')),
            },
          ];
        }
        if (kind === 'mcp_tool_call' || kind === 'web_search')
          return [{ type: 'tool', name: String(kind), summary: '' }];
        if (kind === 'error' && typeof item?.['message'] === 'string')
          return [{ type: 'error', message: item['message'] }];
        return [];
      }
      case 'turn.completed': {
        turns++;
        const u = obj(ev['usage']);
        if (!u) return [];
        const input = num(u['input_tokens']);
        total.inputTokens += input;
        total.outputTokens += num(u['output_tokens']);
        total.cacheReadTokens += num(u['cached_input_tokens']);
        const usage: Partial<Usage> = {
          ...total,
          contextTokens: input,
          contextWindow: contextWindowFor('gpt-5'),
        };
        return [{ type: 'usage', usage }];
      }
      case 'turn.failed': {
        finished = true;
        const message = String(obj(ev['error'])?.['message'] ?? 'turn failed');
        return [...failure(message), { type: 'result', ok: false, summary: message, turns: turns + 1 }];
      }
      case 'error':
        return failure(String(ev['message'] ?? 'codex error'));
      default:
        return [];
    }
  };

  // Codex has no final result event: a clean end of the stream after a completed turn is success.
  const onEnd = (): AgentEvent[] => {
    if (finished || turns === 0) return [];
    return [
      { type: 'result', ok: true, turns, usage: { ...total }, ...(lastText ? { summary: lastText } : {}) },
    ];
  };

  return lineParser(onLine, onEnd);
}

export const codexAdapter: AgentAdapter = {
  name: 'codex',
  done: 'result-event',
  workerNote:
    "Your sandbox keeps `.git` read-only and cannot reach orch's state: do not commit and do not run `orch task …`. orch commits the changes you leave; your final message is your report, and a successful finish with changes made is done.",
  binary: 'codex',
  versionArgs: ['--version'],
  structuredOutput: true,
  buildCommand: buildCodexCommand,
  createParser: createCodexParser,
  render: renderEvent,
};

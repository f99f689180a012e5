/**
 * Google Gemini CLI, headless: `gemini -p <prompt> --output-format stream-json --approval-mode <m>`.
 * Stream events: init, message (delta chunks), tool_use, tool_result, error, result.
 */
import type { Usage } from '@orch/core';
import { contextWindowFor } from './context-window.js';
import { lineParser, parseJsonLine, stripAnsi } from './lines.js';
import { isRateLimitText, resetTimeFrom } from './rate-limit.js';
import { renderEvent, summarizeToolInput } from './summary.js';
import type { AgentAdapter, AgentCommand, AgentEvent, AgentLaunchContext, OutputParser } from './types.js';

/** Prompts above this go through stdin: one argv string is capped at 128 KiB on Linux. */
const MAX_ARG_PROMPT = 100_000;

/** orch's permission modes (Claude's names) mapped onto Gemini's approval modes. */
function approvalMode(permissionMode: string, role: AgentLaunchContext['role']): string {
  if (role === 'reviewer' || permissionMode === 'plan') return 'plan';
  if (permissionMode === 'manual' || permissionMode === 'default') return 'default';
  // Headless workers must run tests and commit: only yolo lets shell commands through without a prompt.
  return 'yolo';
}

export function buildGeminiCommand(ctx: AgentLaunchContext): AgentCommand {
  const model = ctx.model ?? ctx.config.agents.model;
  const viaStdin = ctx.prompt.length > MAX_ARG_PROMPT;
  const prompt = viaStdin ? 'Carry out the task given on standard input.' : ctx.prompt;
  // `--prompt=<text>` keeps a prompt that starts with a dash from being read as a flag.
  const argv = ['gemini', `--prompt=${prompt}`, '--output-format', 'stream-json'];
  argv.push('--approval-mode', approvalMode(ctx.config.agents.permission_mode, ctx.role));
  if (model) argv.push('--model', model);
  argv.push(...(ctx.config.agents.extra_args['gemini'] ?? []));
  // Every worktree is a folder Gemini has never seen: headless, it exits 55 in an untrusted folder
  // when folder trust is on. The variable (unlike `--skip-trust`) is understood by every version.
  const cmd: AgentCommand = { argv, env: { GEMINI_CLI_TRUST_WORKSPACE: 'true', ...ctx.env }, unsetEnv: [] };
  if (viaStdin) cmd.stdinFile = ctx.promptFile;
  return cmd;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export function createGeminiParser(): OutputParser {
  let text = '';
  let model: string | undefined;

  // Assistant messages stream as delta chunks: gather them and emit whole text at the next non-message event.
  const flush = (): AgentEvent[] => {
    const t = text;
    text = '';
    return t.trim() ? [{ type: 'text', text: t }] : [];
  };

  const onLine = (line: string): AgentEvent[] => {
    const ev = parseJsonLine(line);
    if (!ev) {
      const plain = stripAnsi(line).trim();
      if (!plain) return [];
      if (isRateLimitText(plain)) {
        const resetAt = resetTimeFrom(plain);
        return [...flush(), { type: 'rate_limit', message: plain, ...(resetAt ? { resetAt } : {}) }];
      }
      return [...flush(), { type: 'text', text: plain }];
    }
    if (ev['type'] === 'message') {
      if (ev['role'] === 'assistant' && typeof ev['content'] === 'string') {
        text = ev['delta'] === true ? text + ev['content'] : ev['content'];
      }
      return [];
    }
    const out = flush();
    switch (ev['type']) {
      case 'init': {
        model = typeof ev['model'] === 'string' ? ev['model'] : undefined;
        const sessionId = ev['session_id'] ?? ev['sessionId'];
        out.push({
          type: 'started',
          ...(typeof sessionId === 'string' ? { sessionId } : {}),
          ...(model ? { model } : {}),
        });
        break;
      }
      case 'tool_use':
        out.push({
          type: 'tool',
          name: String(ev['tool_name'] ?? ev['name'] ?? 'tool'),
          summary: summarizeToolInput(ev['parameters'] ?? ev['input']),
        });
        break;
      case 'error': {
        const message = String(ev['message'] ?? 'gemini error');
        if (isRateLimitText(message)) {
          const resetAt = resetTimeFrom(message);
          out.push({ type: 'rate_limit', message, ...(resetAt ? { resetAt } : {}) });
        } else out.push({ type: 'error', message });
        break;
      }
      case 'result': {
        const stats = obj(ev['stats']) ?? {};
        const usage: Partial<Usage> = {
          inputTokens: num(stats['input_tokens'] ?? stats['input']),
          outputTokens: num(stats['output_tokens'] ?? stats['output']),
          cacheReadTokens: num(stats['cached']),
          contextWindow: contextWindowFor(model ?? 'gemini'),
        };
        const ok = ev['status'] === 'success';
        const err = obj(ev['error']);
        out.push({ type: 'usage', usage });
        const result: AgentEvent = { type: 'result', ok, usage };
        if (typeof err?.['message'] === 'string') result.summary = err['message'];
        if (typeof stats['duration_ms'] === 'number') result.durationMs = stats['duration_ms'];
        out.push(result);
        break;
      }
    }
    return out;
  };

  return lineParser(onLine, flush);
}

export const geminiAdapter: AgentAdapter = {
  name: 'gemini',
  done: 'result-event',
  binary: 'gemini',
  versionArgs: ['--version'],
  structuredOutput: true,
  buildCommand: buildGeminiCommand,
  createParser: createGeminiParser,
  render: renderEvent,
};

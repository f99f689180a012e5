/**
 * Aider: `aider --yes-always --no-auto-commits --message-file <prompt>` (one message, then exit).
 * Plain-text output; the parser turns lines into text and reads the token and cost report lines.
 */
import { lineParser, stripAnsi } from './lines.js';
import { isRateLimitText, resetTimeFrom } from './rate-limit.js';
import { renderEvent } from './summary.js';
import type { AgentAdapter, AgentCommand, AgentEvent, AgentLaunchContext, OutputParser } from './types.js';

export function buildAiderCommand(ctx: AgentLaunchContext): AgentCommand {
  const model = ctx.model ?? ctx.config.agents.model;
  // orch commits leftover changes itself after the worker; aider's own commits would bypass the prompt's rules.
  const argv = ['aider', '--yes-always', '--no-auto-commits', '--message-file', ctx.promptFile];
  if (model) argv.push('--model', model);
  argv.push(...(ctx.config.agents.extra_args['aider'] ?? []));
  return { argv, env: { ...ctx.env }, unsetEnv: [] };
}

/** "1.2k" → 1200. */
function count(s: string): number {
  const m = /^([\d.,]+)\s*([km])?$/i.exec(s.trim());
  if (!m?.[1]) return 0;
  const n = Number(m[1].replace(/,/g, ''));
  return Math.round(n * (m[2]?.toLowerCase() === 'k' ? 1e3 : m[2]?.toLowerCase() === 'm' ? 1e6 : 1));
}

// Aider's report after each message: "Tokens: 2.1k sent, 150 received. Cost: $0.01 message, $0.03 session."
const TOKENS =
  /^Tokens:\s*([\d.,]+[km]?)\s+sent(?:,\s*([\d.,]+[km]?)\s+cache write)?(?:,\s*([\d.,]+[km]?)\s+cache hit)?,\s*([\d.,]+[km]?)\s+received/i;
const SESSION_COST = /Cost:.*\$([\d.]+)\s+session/i;

export function createAiderParser(): OutputParser {
  const usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0 };
  const onLine = (raw: string): AgentEvent[] => {
    const line = stripAnsi(raw).trimEnd();
    if (!line.trim()) return [];
    const t = TOKENS.exec(line.trim());
    if (t) {
      usage.inputTokens += count(t[1] ?? '0');
      usage.cacheWriteTokens += count(t[2] ?? '0');
      usage.cacheReadTokens += count(t[3] ?? '0');
      usage.outputTokens += count(t[4] ?? '0');
      const cost = SESSION_COST.exec(line);
      if (cost?.[1]) usage.costUsd = Number(cost[1]);
      return [{ type: 'usage', usage: { ...usage } }];
    }
    if (isRateLimitText(line)) {
      const resetAt = resetTimeFrom(line);
      return [{ type: 'rate_limit', message: line.trim(), ...(resetAt ? { resetAt } : {}) }];
    }
    return [{ type: 'text', text: line }];
  };
  return lineParser(onLine);
}

export const aiderAdapter: AgentAdapter = {
  name: 'aider',
  done: 'process-exit',
  workerNote:
    'Aider answers no to shell commands here, so do not run `orch task …` or `git commit`: make the changes and stop. orch commits what you leave and takes your exit (with changes made) as done.',
  binary: 'aider',
  versionArgs: ['--version'],
  structuredOutput: false,
  buildCommand: buildAiderCommand,
  createParser: createAiderParser,
  render: renderEvent,
};

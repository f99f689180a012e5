/**
 * Claude Code, headless: `claude -p --output-format stream-json --verbose`, the prompt on stdin.
 * The parser reads the stream-json events (checked against Claude Code 2.1.329).
 */
import { readFileSync } from 'node:fs';
import { OrchError, type Usage } from '@orch/core';
import { contextWindowFor } from './context-window.js';
import { lineParser, parseJsonLine } from './lines.js';
import { epochToIso, isRateLimitText, resetTimeFrom } from './rate-limit.js';
import { renderEvent, summarizeToolInput } from './summary.js';
import type { AgentAdapter, AgentCommand, AgentEvent, AgentLaunchContext, OutputParser } from './types.js';

/** Tools a reviewer does not get: it reads and reports, it does not edit. */
const WRITE_TOOLS = new Set(['Write', 'Edit', 'MultiEdit', 'NotebookEdit']);

/** The file's text without a leading YAML front matter block (agent definitions carry one). */
function readSystemPrompt(file: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/^---\r?\n[\s\S]*?\r?\n---\r?\n/, '');
  } catch (e) {
    throw new OrchError('ERR_ORCH_AGENT_PROMPT_UNREADABLE', `cannot read the system prompt file ${file}`, {
      hint: 'check that the agent definition exists (roles/worker.md) and is readable',
      cause: e,
    });
  }
}

/** Every tool of the MCP server named `orch` (Claude Code's permission rule for a whole server). */
export const ORCH_MCP_TOOLS = 'mcp__orch';

/** The `--mcp-config` document that starts `orch mcp` with the given command (the worker's own orch). */
export function orchMcpConfig(command: string[]): { mcpServers: Record<string, unknown> } {
  const [cmd, ...args] = command;
  return { mcpServers: { orch: { type: 'stdio', command: cmd, args } } };
}

export function buildClaudeCommand(ctx: AgentLaunchContext): AgentCommand {
  const agents = ctx.config.agents;
  const allowed =
    ctx.role === 'reviewer' ? agents.allowed_tools.filter((t) => !WRITE_TOOLS.has(t)) : agents.allowed_tools;
  // The worker's own orch tools (report, mail) are allowed with the server that offers them.
  const tools = ctx.mcpConfigFile && allowed.length > 0 ? [...allowed, ORCH_MCP_TOOLS] : allowed;
  const model = ctx.model ?? agents.model;
  const argv = ['claude', '-p', '--output-format', 'stream-json', '--verbose'];
  argv.push('--permission-mode', agents.permission_mode);
  // One comma-separated value: the flag is variadic and would swallow following positionals.
  if (tools.length > 0) argv.push('--allowedTools', tools.join(','));
  if (model) argv.push('--model', model);
  if (ctx.systemPromptFile) argv.push('--append-system-prompt', readSystemPrompt(ctx.systemPromptFile));
  if (ctx.settingsFile) argv.push('--settings', ctx.settingsFile);
  if (ctx.mcpConfigFile) argv.push('--mcp-config', ctx.mcpConfigFile);
  argv.push(...(agents.extra_args['claude'] ?? []));
  // CLAUDECODE marks a process as running inside Claude Code; a child that inherits it misbehaves.
  return { argv, env: { ...ctx.env }, unsetEnv: ['CLAUDECODE'], stdinFile: ctx.promptFile };
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

interface MessageUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/**
 * Parser state machine. Claude Code emits one `assistant` event per content block, each carrying
 * the usage known when the block ended (the message_start figures), so usage is kept per message id
 * (largest value seen) and summed. The final `result` carries the authoritative totals and cost.
 */
export function createClaudeParser(): OutputParser {
  const messages = new Map<string, MessageUsage>();
  let model: string | undefined;
  let contextWindow = contextWindowFor(undefined);
  let contextTokens = 0;
  let started = false;
  let finished = false;
  let lastRateLimit: string | undefined;

  const totals = (): Partial<Usage> => {
    let inputTokens = 0;
    let outputTokens = 0;
    let cacheReadTokens = 0;
    let cacheWriteTokens = 0;
    for (const m of messages.values()) {
      inputTokens += m.input;
      outputTokens += m.output;
      cacheReadTokens += m.cacheRead;
      cacheWriteTokens += m.cacheWrite;
    }
    return { inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens, contextTokens, contextWindow };
  };

  const rateLimit = (message: string, resetAt: string | undefined): AgentEvent[] => {
    // The same limit shows up as an assistant error message and again in the result.
    if (lastRateLimit === message) return [];
    lastRateLimit = message;
    return [resetAt ? { type: 'rate_limit', message, resetAt } : { type: 'rate_limit', message }];
  };

  const onAssistant = (ev: Json): AgentEvent[] => {
    const msg = obj(ev['message']);
    if (!msg) return [];
    const out: AgentEvent[] = [];
    const blocks = Array.isArray(msg['content']) ? (msg['content'] as unknown[]) : [];
    const texts = blocks.flatMap((b) => {
      const block = obj(b);
      return block?.['type'] === 'text' && typeof block['text'] === 'string' ? [block['text']] : [];
    });
    // API failures arrive as a synthetic assistant message whose text is the error.
    if (ev['error'] !== undefined || ev['is_api_error_message'] === true) {
      const message = texts.join('\n') || String(ev['error']);
      const limited =
        ev['error'] === 'rate_limit' || ev['api_error_status'] === 429 || isRateLimitText(message);
      return limited ? rateLimit(message, resetTimeFrom(message)) : [{ type: 'error', message }];
    }
    for (const b of blocks) {
      const block = obj(b);
      if (!block) continue;
      if (block['type'] === 'text' && typeof block['text'] === 'string' && block['text'].trim() !== '') {
        out.push({ type: 'text', text: block['text'] });
      } else if (block['type'] === 'tool_use') {
        out.push({
          type: 'tool',
          name: str(block['name']) ?? 'tool',
          summary: summarizeToolInput(block['input']),
        });
      }
    }
    const usage = obj(msg['usage']);
    const id = str(msg['id']);
    if (usage && id && msg['model'] !== '<synthetic>') {
      const prev = messages.get(id);
      const next: MessageUsage = {
        input: Math.max(prev?.input ?? 0, num(usage['input_tokens'])),
        output: Math.max(prev?.output ?? 0, num(usage['output_tokens'])),
        cacheRead: Math.max(prev?.cacheRead ?? 0, num(usage['cache_read_input_tokens'])),
        cacheWrite: Math.max(prev?.cacheWrite ?? 0, num(usage['cache_creation_input_tokens'])),
      };
      const changed =
        !prev ||
        prev.input !== next.input ||
        prev.output !== next.output ||
        prev.cacheRead !== next.cacheRead ||
        prev.cacheWrite !== next.cacheWrite;
      messages.set(id, next);
      // A subagent's turns (parent_tool_use_id set) cost money but do not fill the main context.
      if (ev['parent_tool_use_id'] === null || ev['parent_tool_use_id'] === undefined) {
        contextTokens = next.input + next.cacheRead + next.cacheWrite;
      }
      if (changed) out.push({ type: 'usage', usage: totals() });
    }
    return out;
  };

  const onResult = (ev: Json): AgentEvent[] => {
    finished = true;
    const out: AgentEvent[] = [];
    const u = obj(ev['usage']);
    const modelUsage = obj(ev['modelUsage']);
    const mainModel = model && modelUsage ? obj(modelUsage[model]) : undefined;
    if (mainModel && num(mainModel['contextWindow']) > 0) contextWindow = num(mainModel['contextWindow']);
    const usage: Partial<Usage> = u
      ? {
          inputTokens: num(u['input_tokens']),
          outputTokens: num(u['output_tokens']),
          cacheReadTokens: num(u['cache_read_input_tokens']),
          cacheWriteTokens: num(u['cache_creation_input_tokens']),
          contextTokens,
          contextWindow,
          costUsd: num(ev['total_cost_usd']),
        }
      : { ...totals(), costUsd: num(ev['total_cost_usd']) };
    // `subtype: "success"` can come with `is_error: true` after API errors: is_error decides.
    const ok = ev['is_error'] === false || (ev['is_error'] === undefined && ev['subtype'] === 'success');
    const errors = Array.isArray(ev['errors'])
      ? (ev['errors'] as unknown[]).map(String).join('; ')
      : undefined;
    const summary = str(ev['result']) ?? (errors || str(ev['subtype']));
    if (!ok && summary) {
      const limited =
        ev['api_error_status'] === 429 ||
        ev['api_error_type'] === 'rate_limit_error' ||
        isRateLimitText(summary);
      if (limited) out.push(...rateLimit(summary, resetTimeFrom(summary)));
    }
    out.push({ type: 'usage', usage });
    const result: AgentEvent = { type: 'result', ok, usage };
    if (summary !== undefined) result.summary = summary;
    if (typeof ev['duration_ms'] === 'number') result.durationMs = ev['duration_ms'];
    if (typeof ev['num_turns'] === 'number') result.turns = ev['num_turns'];
    out.push(result);
    return out;
  };

  const onLine = (line: string): AgentEvent[] => {
    if (line.trim() === '') return [];
    const ev = parseJsonLine(line);
    if (!ev) {
      // Plain text on the stream: a crash message or a CLI notice.
      const text = line.trim();
      return isRateLimitText(text) ? rateLimit(text, resetTimeFrom(text)) : [{ type: 'text', text }];
    }
    switch (ev['type']) {
      case 'system': {
        if (ev['subtype'] !== 'init') return [];
        started = true;
        model = str(ev['model']);
        contextWindow = contextWindowFor(model);
        const s: AgentEvent = { type: 'started' };
        const sessionId = str(ev['session_id']);
        if (sessionId) s.sessionId = sessionId;
        if (model) s.model = model;
        return [s];
      }
      case 'assistant':
        return onAssistant(ev);
      case 'rate_limit_event': {
        const info = obj(ev['rate_limit_info']);
        if (info?.['status'] !== 'rejected') return [];
        const kind = str(info['rateLimitType']);
        return rateLimit(`usage limit reached${kind ? ` (${kind})` : ''}`, epochToIso(info['resetsAt']));
      }
      case 'result':
        return onResult(ev);
      default:
        return [];
    }
  };

  const onEnd = (): AgentEvent[] =>
    started && !finished ? [{ type: 'error', message: 'claude output ended without a result event' }] : [];

  return lineParser(onLine, onEnd);
}

export const claudeAdapter: AgentAdapter = {
  name: 'claude',
  done: 'result-event',
  binary: 'claude',
  versionArgs: ['--version'],
  structuredOutput: true,
  buildCommand: buildClaudeCommand,
  createParser: createClaudeParser,
  render: renderEvent,
};

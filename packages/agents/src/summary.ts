/** Short one-line descriptions of tool calls and a common rendering of events for the tmux pane. */
import type { AgentEvent } from './types.js';

const MAX = 160;

export function oneLine(s: string, max = MAX): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The most telling argument of a tool call: the path, the command, the pattern. */
export function summarizeToolInput(input: unknown): string {
  if (input === null || typeof input !== 'object') return typeof input === 'string' ? oneLine(input) : '';
  const o = input as Record<string, unknown>;
  const pick =
    str(o['file_path']) ??
    str(o['path']) ??
    str(o['notebook_path']) ??
    str(o['command']) ??
    str(o['pattern']) ??
    str(o['url']) ??
    str(o['query']) ??
    str(o['description']) ??
    str(o['prompt']);
  if (pick) return oneLine(pick);
  const json = JSON.stringify(o);
  return json === '{}' ? '' : oneLine(json);
}

function money(n: number | undefined): string {
  return n === undefined ? '' : ` $${n.toFixed(4)}`;
}

function tokens(n: number | undefined): string {
  if (n === undefined) return '0';
  return n >= 10_000 ? `${Math.round(n / 1000)}k` : String(n);
}

/** A readable line per event; usage updates are not rendered (the dashboard shows them). */
export function renderEvent(ev: AgentEvent): string | undefined {
  switch (ev.type) {
    case 'started':
      return `▶ started${ev.model ? ` (${ev.model})` : ''}${ev.sessionId ? ` session ${ev.sessionId}` : ''}`;
    case 'text':
      return ev.text.trim() === '' ? undefined : ev.text.replace(/\s+$/, '');
    case 'tool':
      return `⚙ ${ev.name}${ev.summary ? ` ${ev.summary}` : ''}`;
    case 'usage':
      return undefined;
    case 'result': {
      const u = ev.usage;
      const figures = u
        ? ` · in ${tokens(u.inputTokens)} out ${tokens(u.outputTokens)}${money(u.costUsd)}`
        : '';
      const turns = ev.turns === undefined ? '' : ` · ${ev.turns} turns`;
      const secs = ev.durationMs === undefined ? '' : ` · ${(ev.durationMs / 1000).toFixed(1)}s`;
      return `${ev.ok ? '✔ done' : '✖ failed'}${turns}${secs}${figures}${ev.summary ? `: ${oneLine(ev.summary)}` : ''}`;
    }
    case 'rate_limit':
      return `⏸ rate limited: ${oneLine(ev.message)}${ev.resetAt ? ` (resets ${ev.resetAt})` : ''}`;
    case 'error':
      return `✖ error: ${oneLine(ev.message)}`;
  }
}

/** Number, money and time formatting shared by the live views and the plain frame. */
import type { Usage } from '@orch/core';

/** 950 → `950`, 45_200 → `45.2k`, 200_000 → `200k`, 1_250_000 → `1.25M`. */
export function formatTokens(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return '0';
  if (n < 1000) return String(Math.round(n));
  if (n < 1_000_000) return `${trimZeros((n / 1000).toFixed(n < 100_000 ? 1 : 0))}k`;
  return `${trimZeros((n / 1_000_000).toFixed(2))}M`;
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** `45.2k/200k (23%)`; `45.2k` without a known window; `-` before the first turn. */
export function formatContext(usage: Pick<Usage, 'contextTokens' | 'contextWindow'>): string {
  const used = usage.contextTokens;
  const win = usage.contextWindow;
  if (used <= 0 && win <= 0) return '-';
  if (win <= 0) return formatTokens(used);
  return `${formatTokens(used)}/${formatTokens(win)} (${contextPercent(usage)}%)`;
}

export function contextPercent(usage: Pick<Usage, 'contextTokens' | 'contextWindow'>): number {
  if (usage.contextWindow <= 0) return 0;
  return Math.round((usage.contextTokens / usage.contextWindow) * 100);
}

/** `$0.00` for nothing, cents below $100, whole dollars above. */
export function formatCost(usd: number): string {
  if (!Number.isFinite(usd) || usd <= 0) return '$0.00';
  if (usd < 0.01) return '<$0.01';
  if (usd < 100) return `$${usd.toFixed(2)}`;
  return `$${Math.round(usd)}`;
}

/** `42s`, `3m05s`, `2h07m`; `-` for unknown or negative spans. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

/** Milliseconds between two ISO timestamps (the end defaults to `now`). */
export function span(start: string | undefined, end: string | undefined, now: number): number | undefined {
  if (!start) return undefined;
  const a = Date.parse(start);
  const b = end ? Date.parse(end) : now;
  if (Number.isNaN(a) || Number.isNaN(b)) return undefined;
  return Math.max(0, b - a);
}

export function shortCommit(sha: string | undefined): string {
  return sha ? sha.slice(0, 10) : '-';
}

// One definition of terminal-safe text, shared with the CLI's human output.
export { cleanLine, oneLine } from '@orch/core';

/** Cuts to `width` characters, ending in `…` when cut. Assumes one column per code point. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  if (width === 1) return '…';
  return `${chars.slice(0, width - 1).join('')}…`;
}

export function padEnd(text: string, width: number): string {
  const t = truncate(text, width);
  return t + ' '.repeat(Math.max(0, width - Array.from(t).length));
}

export function padStart(text: string, width: number): string {
  const t = truncate(text, width);
  return ' '.repeat(Math.max(0, width - Array.from(t).length)) + t;
}

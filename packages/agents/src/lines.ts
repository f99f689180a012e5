import type { AgentEvent, OutputParser } from './types.js';

/** Splits a chunked stream into whole lines (LF or CRLF); the last partial line waits for more. */
export class LineSplitter {
  private rest = '';

  push(chunk: string): string[] {
    const data = this.rest + chunk;
    const parts = data.split('\n');
    this.rest = parts.pop() ?? '';
    return parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  }

  end(): string[] {
    const last = this.rest;
    this.rest = '';
    return last === '' ? [] : [last.endsWith('\r') ? last.slice(0, -1) : last];
  }
}

/** A parser built from a per-line function; state lives in the closure that makes `onLine`. */
export function lineParser(onLine: (line: string) => AgentEvent[], onEnd?: () => AgentEvent[]): OutputParser {
  const splitter = new LineSplitter();
  return {
    push: (chunk) => splitter.push(chunk).flatMap(onLine),
    end: () => [...splitter.end().flatMap(onLine), ...(onEnd?.() ?? [])],
  };
}

/** Parses one JSON object line; anything else (banners, blank lines, junk) yields undefined. */
export function parseJsonLine(line: string): Record<string, unknown> | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

// Escape sequences are exactly what this pattern is for.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007]*(\u0007|\u001b\\)/g;

/** Terminal escapes removed, so plain-text agents' lines are readable in events and logs. */
export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

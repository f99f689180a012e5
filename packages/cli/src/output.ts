import { terminalSafe, type OrchError } from '@orch/core';

/** Colours only on a terminal, and never when NO_COLOR is set. */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

const codes = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  gray: 90,
  bold: 1,
  dim: 2,
} as const;
export type Color = keyof typeof codes;

export function paint(color: Color, text: string, stream?: NodeJS.WriteStream): string {
  if (!useColor(stream)) return text;
  const close = color === 'bold' || color === 'dim' ? 22 : 39;
  return `\u001b[${codes[color]}m${text}\u001b[${close}m`;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function println(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/**
 * Writes to stdout and resolves once the text was handed to the operating system (the reader of
 * a pipe may still be slow); rejects when it cannot be written (the reader is gone). Whatever is
 * marked done after it, like a mailbox message marked read, was really written out.
 */
export function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

export function printError(err: OrchError, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ error: err.toJSON() }, null, 2)}\n`);
    return;
  }
  const s = process.stderr;
  // Messages quote names and paths that may come from a worker.
  s.write(`${paint('red', 'error', s)} ${paint('dim', err.code, s)}: ${terminalSafe(err.message)}\n`);
  if (err.hint) s.write(`${paint('yellow', 'hint', s)}: ${terminalSafe(err.hint)}\n`);
}

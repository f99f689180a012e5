import { appendFileSync } from 'node:fs';
// The light parts of core only: every command loads this module, `orch --version` included.
import { ExitCode, type OrchError } from '@orch/core/errors';
import { terminalSafe } from '@orch/core/text/terminal';
import type { CommandIO, Output } from './define.js';

/** Colours only on a terminal, and never when NO_COLOR is set. */
export function useColor(stream: { readonly isTTY?: boolean } = process.stdout): boolean {
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

export function paint(color: Color, text: string, stream?: { readonly isTTY?: boolean }): string {
  if (!useColor(stream)) return text;
  const close = color === 'bold' || color === 'dim' ? 22 : 39;
  return `\u001b[${codes[color]}m${text}\u001b[${close}m`;
}

/**
 * Output that nobody reads any more: the reader of a pipe went away (`orch state list | head -1`:
 * EPIPE) or the terminal closed (EIO). A command then ends quietly with its own exit code; a
 * supervisor goes on and writes its lines to the run's log instead (see `outliveOutput`).
 */
const LOST_OUTPUT = new Set(['EPIPE', 'EIO', 'ECONNRESET', 'ERR_STREAM_DESTROYED']);
let outputLost = false;
let lostOutputLog: string | undefined;
let keepGoing = false;
let guarded = false;

function onOutputError(e: NodeJS.ErrnoException): void {
  if (!LOST_OUTPUT.has(e.code ?? '')) throw e;
  if (outputLost) return;
  outputLost = true;
  // After the current step, so a command that just printed its result still sets its exit code.
  if (!keepGoing)
    setImmediate(() => process.exit(typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok));
}

/** Installed once by the CLI entry: a closed pipe or terminal never becomes a stack trace. */
export function guardOutput(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', onOutputError);
  process.stderr.on('error', onOutputError);
}

/**
 * For a process that must outlive its terminal (a foreground supervisor): lost output is not a
 * reason to exit; from then on lines go to `log` (the run's supervisor.log).
 */
export function outliveOutput(log: string): void {
  keepGoing = true;
  lostOutputLog = log;
  // A hung-up terminal also fails reads and raw-mode switches on stdin (the dashboard's keys).
  process.stdin.on('error', () => undefined);
}

/** The terminal is gone (SIGHUP): stop writing to it before a write fails. */
export function markOutputLost(): void {
  outputLost = true;
}

export function isOutputLost(): boolean {
  return outputLost;
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

function write(stream: NodeJS.WriteStream, text: string): void {
  if (!outputLost) {
    stream.write(text);
    return;
  }
  if (!lostOutputLog) return;
  try {
    appendFileSync(lostOutputLog, text.replace(ANSI, ''));
  } catch {
    // The run folder is gone (aborted from elsewhere): there is nowhere left to write.
  }
}

/** This process's streams, cwd and environment, written to as `println` writes (lost output is quiet). */
export function processIO(): CommandIO {
  const out = (stream: NodeJS.WriteStream): Output => ({
    write: (text: string) => write(stream, text),
    writeDone: (text: string) =>
      new Promise<void>((resolve, reject) => {
        stream.write(text, (err) => (err ? reject(err) : resolve()));
      }),
    get isTTY() {
      return Boolean(stream.isTTY);
    },
    get columns() {
      return stream.columns;
    },
  });
  return {
    stdout: out(process.stdout),
    stderr: out(process.stderr),
    stdin: process.stdin,
    cwd: process.cwd(),
    env: process.env,
  };
}

export function printJson(value: unknown): void {
  write(process.stdout, `${JSON.stringify(value, null, 2)}\n`);
}

export function println(text = ''): void {
  write(process.stdout, `${text}\n`);
}

/** A remark for the person at the terminal, on stderr so it never mixes into data on stdout. */
export function note(text: string): void {
  write(process.stderr, `${text}\n`);
}

/**
 * Writes and resolves once the text was handed on (for the process's stdout: to the operating
 * system; the reader of a pipe may still be slow); rejects when it cannot be written (the reader is
 * gone). Whatever is marked done after it, like a mailbox message marked read, was really written out.
 */
export async function writeOut(out: Output, text: string): Promise<void> {
  if (out.writeDone) return out.writeDone(text);
  out.write(text);
}

/** All of stdin as text; nothing when there is none or it is a terminal. */
export async function readAll(input: CommandIO['stdin']): Promise<string> {
  if (!input || input.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Asks a yes/no question on the terminal (the default is no). Only called when stdin is a terminal.
 */
export async function confirm(io: CommandIO, question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  // A terminal's own stream keeps readline's line editing; anything else only gets the question.
  const output = io.stdout.isTTY
    ? process.stdout
    : ({ write: (s: string) => io.stdout.write(s) } as unknown as NodeJS.WritableStream);
  const rl = createInterface({ input: io.stdin as NodeJS.ReadableStream, output });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function printError(err: OrchError, json: boolean, io: CommandIO = processIO()): void {
  if (json) {
    io.stdout.write(`${JSON.stringify({ error: err.toJSON() }, null, 2)}\n`);
    return;
  }
  for (const line of errorLines(err, io.stderr)) io.stderr.write(`${line}\n`);
}

/** An error as the terminal shows it: `error CODE: message` and its hint. */
export function errorLines(err: OrchError, s: Output): string[] {
  // Messages quote names and paths that may come from a worker.
  const lines = [`${paint('red', 'error', s)} ${paint('dim', err.code, s)}: ${terminalSafe(err.message)}`];
  if (err.hint) lines.push(`${paint('yellow', 'hint', s)}: ${terminalSafe(err.hint)}`);
  return lines;
}

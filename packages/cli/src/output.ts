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
    get isTTY() {
      return Boolean(stream.isTTY);
    },
  });
  return { stdout: out(process.stdout), stderr: out(process.stderr), cwd: process.cwd(), env: process.env };
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
 * Writes to stdout and resolves once the text was handed to the operating system (the reader of
 * a pipe may still be slow); rejects when it cannot be written (the reader is gone). Whatever is
 * marked done after it, like a mailbox message marked read, was really written out.
 */
export function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

export function printError(err: OrchError, json: boolean, io: CommandIO = processIO()): void {
  if (json) {
    io.stdout.write(`${JSON.stringify({ error: err.toJSON() }, null, 2)}\n`);
    return;
  }
  const s = io.stderr;
  // Messages quote names and paths that may come from a worker.
  s.write(`${paint('red', 'error', s)} ${paint('dim', err.code, s)}: ${terminalSafe(err.message)}\n`);
  if (err.hint) s.write(`${paint('yellow', 'hint', s)}: ${terminalSafe(err.hint)}\n`);
}

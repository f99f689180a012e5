/**
 * Runs one verification command: `sh -c <command>` in the worktree, in its own process group so a
 * timeout ends every process it started, with stdout and stderr interleaved into one log file. A
 * detached watchdog enforces the same deadline if this process dies (see watchdog.ts).
 */
import { spawn } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import {
  KILL_GRACE_MS,
  forgetCommand,
  processStartTime,
  recordCommand,
  startWatchdog,
  stopWatchdog,
} from './watchdog.js';

export interface CommandRun {
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  /** The output's last megabyte (without the log header), for the tail and zero-test detection. */
  output: string;
}

const KEEP_BYTES = 1 << 20;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

export async function runShellCommand(input: {
  command: string;
  cwd: string;
  timeoutMs: number;
  logPath: string;
  /** Written at the top of the log (the expanded command, the working directory). */
  header: string;
  env?: NodeJS.ProcessEnv;
}): Promise<CommandRun> {
  const log = await open(input.logPath, 'w');
  try {
    await log.write(input.header);
    const started = performance.now();
    const child = spawn('sh', ['-c', input.command], {
      cwd: input.cwd,
      detached: true, // a new process group: the timeout kills -pid
      stdio: ['ignore', log.fd, log.fd],
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...input.env },
    });
    // Listen before anything is awaited: a quick command may exit meanwhile.
    const exited = new Promise<number | null>((resolve) => {
      child.once('error', () => resolve(127));
      child.once('exit', (code) => resolve(code));
    });
    const pgid = child.pid;
    const watchdog = pgid !== undefined ? startWatchdog(pgid, input.timeoutMs) : undefined;
    const startTime = pgid !== undefined ? processStartTime(pgid) : undefined;
    const record =
      pgid !== undefined
        ? await recordCommand({
            pgid,
            command: input.command.slice(0, 500),
            cwd: input.cwd,
            startedAt: new Date().toISOString(),
            ...(startTime ? { startTime } : {}),
          })
        : undefined;
    let timedOut = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid === undefined) return;
      const pid = child.pid;
      killGroup(pid, 'SIGTERM');
      graceTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
    }, input.timeoutMs);
    const exitCode = await exited;
    clearTimeout(timer);
    if (graceTimer) clearTimeout(graceTimer);
    // Whatever the command left running in the background must not outlive the check.
    if (child.pid !== undefined) killGroup(child.pid, timedOut ? 'SIGKILL' : 'SIGTERM');
    if (watchdog) stopWatchdog(watchdog);
    await forgetCommand(record);
    const durationMs = Math.round(performance.now() - started);
    if (timedOut) await log.write(`\n[orch] timed out after ${input.timeoutMs} ms; process group killed\n`);
    return {
      exitCode: timedOut ? null : exitCode,
      timedOut,
      durationMs,
      output: await readEnd(input.logPath, Buffer.byteLength(input.header)),
    };
  } finally {
    await log.close();
  }
}

/** The last `KEEP_BYTES` of a file after its header, starting at a line boundary when cut. */
async function readEnd(path: string, headerBytes: number): Promise<string> {
  const size = (await stat(path)).size;
  const start = Math.max(headerBytes, size - KEEP_BYTES);
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    const text = buf.toString('utf8');
    return start === headerBytes ? text : text.slice(text.indexOf('\n') + 1);
  } finally {
    await fh.close();
  }
}

/** The last `n` lines, without a trailing empty line. */
export function tailLines(text: string, n = 40): string {
  const lines = text.replace(/\n+$/, '').split('\n');
  return lines.slice(-n).join('\n');
}

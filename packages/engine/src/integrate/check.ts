/** Runs one check command (sh -c, the project's own command) with a timeout; output kept in a log. */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execa } from 'execa';

export interface CheckResult {
  command: string;
  ok: boolean;
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  logPath: string;
  tail: string;
}

export function tailLines(text: string, n = 40): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}

export async function runCheck(
  command: string,
  cwd: string,
  logPath: string,
  timeoutSec: number,
  env: Record<string, string | undefined> = process.env,
): Promise<CheckResult> {
  await mkdir(dirname(logPath), { recursive: true });
  const started = Date.now();
  const r = await execa('sh', ['-c', command], {
    cwd,
    env,
    reject: false,
    all: true,
    timeout: timeoutSec * 1000,
    killSignal: 'SIGKILL',
    detached: true,
    stdin: 'ignore',
  });
  const all = String(r.all ?? '');
  await new Promise<void>((resolve, reject) => {
    const s = createWriteStream(logPath);
    s.on('error', reject);
    s.end(
      `$ ${command}\n${all}\n[exit ${r.exitCode ?? 'none'}${r.timedOut ? ', timed out' : ''}]\n`,
      resolve,
    );
  });
  return {
    command,
    ok: r.exitCode === 0 && !r.timedOut,
    exitCode: r.exitCode ?? null,
    timedOut: Boolean(r.timedOut),
    durationMs: Date.now() - started,
    logPath,
    tail: tailLines(all),
  };
}

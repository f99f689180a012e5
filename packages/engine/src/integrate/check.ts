/** Runs one check command on staging (the project's own, `sh -c`), with the verifier's runner. */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { runShellCommand, tailLines } from '../verify/run-command.js';

export interface CheckResult {
  command: string;
  ok: boolean;
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  logPath: string;
  tail: string;
}

export async function runCheck(
  command: string,
  cwd: string,
  logPath: string,
  timeoutSec: number,
): Promise<CheckResult> {
  await mkdir(dirname(logPath), { recursive: true });
  const run = await runShellCommand({
    command,
    cwd,
    timeoutMs: timeoutSec * 1000,
    logPath,
    header: `$ ${command}\n# in ${cwd}\n`,
  });
  return {
    command,
    ok: run.exitCode === 0 && !run.timedOut,
    exitCode: run.exitCode,
    timedOut: run.timedOut,
    durationMs: run.durationMs,
    logPath,
    tail: tailLines(run.output),
  };
}

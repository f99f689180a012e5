/** The supervisor in the background: a session of orch's tmux server, logging to the run's folder. */
import { join } from 'node:path';
import { runPaths } from '@orch/store';
import { supervisorSessionName } from '@orch/tmux';
import { tmuxFor } from './context.js';

/** Where a supervisor's lines go when no terminal shows them (detached, or after a hangup). */
export function supervisorLog(repoRoot: string, run: string): string {
  return join(runPaths(repoRoot, run).dir, 'supervisor.log');
}

/** Starts `orch _supervise` for a prepared run in its own session; returns the session's name. */
export async function startDetachedSupervisor(
  repoRoot: string,
  run: string,
  orchBin: string,
  opts: { noPromote?: boolean } = {},
): Promise<string> {
  const tmux = await tmuxFor(repoRoot);
  const session = supervisorSessionName(run);
  await tmux.newSession({
    name: session,
    cwd: repoRoot,
    argv: [
      process.execPath,
      orchBin,
      '_supervise',
      '--run',
      run,
      ...(opts.noPromote ? ['--no-promote'] : []),
    ],
    env: { ORCH_ROOT: repoRoot },
    logFile: supervisorLog(repoRoot, run),
  });
  return session;
}

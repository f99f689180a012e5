/**
 * Starting a run's supervisor in the background: `orch _supervise` in a session of orch's own tmux
 * server, its output in the run's supervisor.log. `orch run --detach` and `orch state resume
 * --detach` (or the resume of a run that was detached) both start it here.
 */
import { join } from 'node:path';
import { runPaths } from '@orch/store';
import { supervisorSessionName } from '@orch/tmux';
import { tmuxFor } from './context.js';

/** Where a supervisor's lines go when no terminal shows them (detached, or after a hangup). */
export function supervisorLog(repoRoot: string, run: string): string {
  return join(runPaths(repoRoot, run).dir, 'supervisor.log');
}

export interface DetachOptions {
  repoRoot: string;
  run: string;
  /** The `orch` entry point the session runs (`orchBinPath()`). */
  orchBin: string;
  /** Continue an interrupted run (`_supervise --resume`) instead of starting a prepared one. */
  resume?: boolean;
  /** Leave the result on staging (`--no-promote`). */
  noPromote?: boolean;
}

/** Starts the supervisor session (replacing a leftover one on resume) and returns its name. */
export async function startDetachedSupervisor(o: DetachOptions): Promise<{ session: string }> {
  const tmux = await tmuxFor(o.repoRoot);
  const session = supervisorSessionName(o.run);
  // A resumed run's old session may still exist with a dead supervisor in it.
  if (o.resume) await tmux.killSession(session);
  await tmux.newSession({
    name: session,
    cwd: o.repoRoot,
    argv: [
      process.execPath,
      o.orchBin,
      '_supervise',
      '--run',
      o.run,
      ...(o.noPromote ? ['--no-promote'] : []),
      ...(o.resume ? ['--resume'] : []),
    ],
    env: { ORCH_ROOT: o.repoRoot },
    logFile: supervisorLog(o.repoRoot, o.run),
  });
  return { session };
}

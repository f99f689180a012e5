/** The run a worker-facing command or MCP tool is about, with its state. */
import { OrchError, isTerminalPhase, type RunState } from '@orch/core';
import { loadRunState, resolveRun, runPaths, type ResolvedRun } from '@orch/store';

export interface RunOpts {
  run?: string;
  task?: string;
  where?: Where;
}

/** The folder and environment a command runs in (a command's injected `cwd` and `env`). */
export interface Where {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface LoadedRun extends ResolvedRun {
  dir: string;
  state: RunState;
}

/** The run a command is about, with its state; fails clearly when it has not started. */
export async function loadRun(opts: RunOpts): Promise<LoadedRun> {
  const r = await resolveRun({
    ...(opts.where ? { cwd: opts.where.cwd, env: opts.where.env } : {}),
    ...(opts.run ? { run: opts.run } : {}),
    ...(opts.task ? { task: opts.task } : {}),
  });
  const dir = runPaths(r.repoRoot, r.run).dir;
  const state = await loadRunState(dir);
  if (!state) {
    throw new OrchError('ERR_ORCH_RUN_NOT_FOUND', `run ${r.run} has not started yet (its journal is empty)`, {
      hint: 'Wait for `orch run` to start it, or pass another run with --run <id>.',
    });
  }
  return { ...r, dir, state };
}

export function assertRunActive(state: RunState): void {
  if (state.outcome !== undefined || isTerminalPhase(state.phase)) {
    throw new OrchError(
      'ERR_ORCH_RUN_FINISHED',
      `run ${state.run} has finished (${state.outcome ?? state.phase})`,
      {
        hint: 'Status reports and messages only go to a running run; start a new one with `orch run`.',
      },
    );
  }
}

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { taskBranch } from '@orch/engine';
import { runOrch, startedRunRepo, type CliResult, type TempRepo } from '@orch/test-utils';
import { orchInProcess } from './in-process.js';

/** Variables a test must not inherit from whoever runs the tests. */
export const CLEAN_ENV = { ORCH_ROOT: undefined, ORCH_RUN: undefined, ORCH_TASK: undefined };

export interface RunRepo {
  repo: TempRepo;
  root: string;
  run: string;
  runDir: string;
  /** A linked worktree of task `api`, as orch creates them. */
  worktree: string;
  orch: (
    args: string[],
    env?: Record<string, string | undefined>,
    cwd?: string,
    input?: string,
  ) => Promise<CliResult>;
}

/**
 * A repository with a started run of tasks api, ui, db (current run) and a worktree for api.
 * `orch` spawns the built binary, or with `inProcess` runs the same program in this process.
 */
export async function runRepo(
  tasks = ['api', 'ui', 'db'],
  { inProcess = false }: { inProcess?: boolean } = {},
): Promise<RunRepo> {
  const { repo, root, run, runDir } = await startedRunRepo(tasks, { event: { request: 'cli test' } });
  const worktree = join(root, '.worktrees', 'api');
  await mkdir(join(root, '.worktrees'), { recursive: true });
  await repo.git('worktree', 'add', '-q', '-b', taskBranch(run, 'api'), worktree);
  const run1 = inProcess ? orchInProcess : runOrch;
  const orch: RunRepo['orch'] = (args, env = {}, cwd = root, input) =>
    run1(args, { cwd, env: { ...CLEAN_ENV, ...env }, ...(input !== undefined ? { input } : {}) });
  return { repo, root, run, runDir, worktree, orch };
}

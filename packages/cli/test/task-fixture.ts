import { mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { taskBranch } from '@orch/engine';
import { appendEvent, createRunDir, runPaths, setCurrentRun } from '@orch/store';
import { orchInProcess } from './in-process.js';
import { runOrch, runStarted, tempRepo, type CliResult, type TempRepo } from '@orch/test-utils';

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
  const repo = await tempRepo();
  const root = await realpath(repo.root);
  const run = await createRunDir(root);
  const runDir = runPaths(root, run).dir;
  await appendEvent(runDir, runStarted(tasks, { run, request: 'cli test', repoRoot: root }));
  await setCurrentRun(root, run);
  const worktree = join(root, '.worktrees', 'api');
  await mkdir(join(root, '.worktrees'), { recursive: true });
  await repo.git('worktree', 'add', '-q', '-b', taskBranch(run, 'api'), worktree);
  const run1 = inProcess ? orchInProcess : runOrch;
  const orch: RunRepo['orch'] = (args, env = {}, cwd = root, input) =>
    run1(args, { cwd, env: { ...CLEAN_ENV, ...env }, ...(input !== undefined ? { input } : {}) });
  return { repo, root, run, runDir, worktree, orch };
}

/**
 * Everything a supervisor needs about one run, opened from the run directory alone so that a
 * resumed supervisor sees exactly what the first one saw (the plan is the frozen copy in the run).
 */
import { join } from 'node:path';
import {
  OrchError,
  loadConfig,
  loadPlan,
  remainingPathLengths,
  type Config,
  type Plan,
  type RunState,
} from '@orch/core';
import { Repo } from '@orch/git';
import { runPaths } from '@orch/store';
import { TmuxServer, socketNameFor } from '@orch/tmux';
import { WorktreePool } from '../worker/pool.js';
import { RunJournal } from './journal.js';

export interface RunContext {
  repo: Repo;
  repoRoot: string;
  run: string;
  paths: ReturnType<typeof runPaths>;
  plan: Plan;
  config: Config;
  tmux: TmuxServer;
  journal: RunJournal;
  priorities: Map<string, number>;
  orchBin: string;
  /** Where orch keeps its tmux config, shims and other private files for this repository. */
  privateDir: string;
  /** Worktrees of merged tasks, recycled for the next tasks. */
  pool: WorktreePool;
  /** The attempt launched most recently per task (its `task.started` may not be journaled yet). */
  launched: Map<string, number>;
}

export function stagingBranch(run: string): string {
  return `orch/${run}/staging`;
}

/**
 * A task's branch: `orch/<run>/<task>/work`, so that the ref directory `orch/<run>/<task>/` holds
 * this one branch and nothing else, and a worker's sandbox can make exactly that directory writable.
 * Build the name only here.
 */
export function taskBranch(run: string, task: string): string {
  return `orch/${run}/${task}/work`;
}

export function archiveBranch(run: string, task: string, n: number): string {
  return `orch/${run}/archive/${task}-${n}`;
}

export function worktreePath(repoRoot: string, config: Config, task: string): string {
  return join(repoRoot, config.orchestration.worktree_dir, task);
}

export function integrationWorktreePath(repoRoot: string, config: Config, run: string): string {
  // Task ids start with [a-z0-9], so a leading underscore can never clash with a task's worktree.
  return join(repoRoot, config.orchestration.worktree_dir, `_integration-${run}`);
}

/** orch's own checkout of the commit being verified for a task (removed after each verification). */
export function verifyWorktreePath(repoRoot: string, config: Config, run: string, task: string): string {
  return join(repoRoot, config.orchestration.worktree_dir, `_verify-${run}-${task}`);
}

/** orch's private tmux server for a repository, with its own config file written. */
export async function tmuxFor(repoRoot: string): Promise<TmuxServer> {
  const server = new TmuxServer({ socket: socketNameFor(repoRoot) });
  await server.ensureConfig(join(repoRoot, '.orchestrator'));
  return server;
}

export async function openRunContext(repoRoot: string, run: string, orchBin: string): Promise<RunContext> {
  const paths = runPaths(repoRoot, run);
  const journal = new RunJournal(paths.dir, paths.events);
  await journal.refresh();
  const state = journal.state;
  if (!state) {
    throw new OrchError('ERR_ORCH_RUN_NOT_FOUND', `Run ${run} has no journal.`, {
      hint: 'List the runs of this repository with `orch state list`.',
    });
  }
  const { plan } = await loadPlan(paths.plan);
  const config = await loadConfig(repoRoot);
  const repo = await Repo.open(repoRoot);
  const tmux = await tmuxFor(repoRoot);
  const ctx: RunContext = {
    repo,
    repoRoot,
    run,
    paths,
    plan,
    config,
    tmux,
    journal,
    priorities: remainingPathLengths(plan),
    orchBin,
    privateDir: join(repoRoot, '.orchestrator'),
    pool: undefined as unknown as WorktreePool,
    launched: new Map(),
  };
  ctx.pool = new WorktreePool(ctx, state.maxWorkers);
  return ctx;
}

export function requireState(ctx: RunContext): RunState {
  const s = ctx.journal.state;
  if (!s) throw new Error('run state missing');
  return s;
}

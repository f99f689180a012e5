/**
 * Everything a supervisor needs about one run, opened from the run directory alone so that a
 * resumed supervisor sees exactly what the first one saw (the plan is the frozen copy in the run).
 * An immutable record of ports: built once, never patched or replaced mid-run; the one thing
 * that changes (the plan, when a review adds tasks) lives behind its own owner, `plans`.
 */
import { join } from 'node:path';
import { OrchError, loadConfig, loadPlan, type Config, type Plan, type RunState } from '@orch/core';
import { Repo } from '@orch/git';
import { runPaths } from '@orch/store';
import { TmuxServer, socketNameFor } from '@orch/tmux';
import { systemClock, type Clock } from '../ports/clock.js';
import { gitRepository, gitUserCheckout } from '../ports/git.js';
import type { Repository } from '../ports/repository.js';
import type { RunLog } from '../ports/run-log.js';
import type { SupervisorSession } from '../ports/supervisor-session.js';
import { tmuxSupervisorSession, tmuxWorkers } from '../ports/tmux.js';
import type { WorkerRuntime } from '../ports/worker-runtime.js';
import type { UserCheckout } from '../ports/user-checkout.js';
import type { Workspaces } from '../ports/workspaces.js';
import { GitWorkspaces } from '../worker/workspaces.js';
import { RunJournal } from './journal.js';
import { PlanStore } from './plan-store.js';

export {
  archiveBranch,
  integrationWorktreePath,
  stagingBranch,
  taskBranch,
  verifyWorktreePath,
  worktreePath,
} from './names.js';

export interface RunContext {
  /**
   * The local checkout's git, for what is not behind a port yet: the supervisor's own verification
   * and integration checkouts (merge/, integrate/, verify/) and the staging guard.
   */
  readonly repo: Repo;
  readonly repository: Repository;
  /** The user's checkouts, which promotion fast-forwards in place. */
  readonly userCheckout: UserCheckout;
  readonly repoRoot: string;
  readonly run: string;
  readonly paths: ReturnType<typeof runPaths>;
  readonly plans: PlanStore;
  /** The current plan (`plans.plan`). */
  readonly plan: Plan;
  /** Each task's longest remaining path (`plans.priorities`). */
  readonly priorities: Map<string, number>;
  readonly config: Config;
  /** The detached supervisor's own session on this machine's tmux (never a worker's). */
  readonly supervisorSession: SupervisorSession;
  readonly workers: WorkerRuntime;
  readonly journal: RunLog;
  readonly workspaces: Workspaces;
  readonly clock: Clock;
  readonly orchBin: string;
  /** Where orch keeps its tmux config, shims and other private files for this repository. */
  readonly privateDir: string;
  /** The attempt launched most recently per task (its `task.started` may not be journaled yet). */
  readonly launched: Map<string, number>;
}

/** Ports to use instead of the local ones (tests; a distributed run). */
export interface RunPorts {
  journal?: RunLog;
  workers?: WorkerRuntime;
  workspaces?: Workspaces;
  repository?: Repository;
  userCheckout?: UserCheckout;
  supervisorSession?: SupervisorSession;
  clock?: Clock;
}

/** orch's private tmux server for a repository, with its own config file written. */
export async function tmuxFor(repoRoot: string): Promise<TmuxServer> {
  const server = new TmuxServer({ socket: socketNameFor(repoRoot) });
  await server.ensureConfig(join(repoRoot, '.orchestrator'));
  return server;
}

/** What a supervisor away from the user's checkout takes from the run instead of from its files. */
export interface RunContextOptions {
  /** The configuration the run started with (its `run.started`), instead of the checkout's file. */
  config?: Config;
}

export async function openRunContext(
  repoRoot: string,
  run: string,
  orchBin: string,
  ports: RunPorts = {},
  opts: RunContextOptions = {},
): Promise<RunContext> {
  const paths = runPaths(repoRoot, run);
  const journal = ports.journal ?? new RunJournal(paths.dir, paths.events);
  await journal.refresh();
  const state = journal.state;
  if (!state) {
    throw new OrchError('ERR_ORCH_RUN_NOT_FOUND', `Run ${run} has no journal.`, {
      hint: 'List the runs of this repository with `orch state list`.',
    });
  }
  const { plan } = await loadPlan(paths.plan);
  const config = opts.config ?? (await loadConfig(repoRoot));
  const repo = await Repo.open(repoRoot);
  const tmux = await tmuxFor(repoRoot);
  const plans = new PlanStore(plan);
  const workspaces =
    ports.workspaces ??
    new GitWorkspaces({ repo, repoRoot, config, run, journal, poolSize: state.maxWorkers });
  return Object.freeze({
    repo,
    repository: ports.repository ?? gitRepository(repo),
    userCheckout: ports.userCheckout ?? gitUserCheckout(repo),
    repoRoot,
    run,
    paths,
    plans,
    get plan() {
      return plans.plan;
    },
    get priorities() {
      return plans.priorities;
    },
    config,
    supervisorSession: ports.supervisorSession ?? tmuxSupervisorSession(tmux, run),
    workers: ports.workers ?? tmuxWorkers(tmux),
    journal,
    workspaces,
    clock: ports.clock ?? systemClock,
    orchBin,
    privateDir: join(repoRoot, '.orchestrator'),
    launched: new Map<string, number>(),
  });
}

export function requireState(ctx: Pick<RunContext, 'journal'>): RunState {
  const s = ctx.journal.state;
  if (!s) throw new Error('run state missing');
  return s;
}

/**
 * Resume reconciles what orch believed (the journal) with what is true (the repository, the workers
 * and their workspaces, all through the run's ports), task by task,
 * then hands the run to a new supervisor. `planResume` only looks; `repairForResume` applies the
 * repairs and journals each of them. Nothing that is not merged is ever deleted: a branch that must
 * be replaced is first kept under `orch/<run>/archive/<task>-<n>`.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  OrchError,
  isFinished,
  isProcessAlive,
  isTerminalPhase,
  isTerminalStatus,
  traced,
  type RunState,
  type TaskState,
} from '@orch/core';
import {
  classify,
  runStance,
  type ResumeAction,
  type ResumeNames,
  type ResumePlan,
  type TaskFacts,
  type WorldFacts,
} from './resume-plan.js';
import { taskChannelPaths } from '@orch/store';
import { sessionName } from '@orch/tmux';
import { removeWorktreesOf, verifyWorktrees } from '../integrate/worktree.js';
import { explainStagingMove } from '../merge/guard.js';
import { findLanding } from '../merge/queue.js';
import { Intake } from '../supervisor/intake.js';
import { ensureTaskWorktree } from '../worker/launch.js';
import { poolWorktrees } from '../worker/pool.js';
import { leftoverCommands, stopLeftoverCommands } from '../verify/watchdog.js';
import {
  archiveBranch,
  integrationWorktreePath,
  openRunContext,
  stagingBranch,
  taskBranch,
  worktreePath,
  type RunContext,
} from './context.js';

export type {
  ResumeAction,
  ResumeItem,
  ResumePlan,
  ResumeRepair,
  TaskFacts,
  WorldFacts,
} from './resume-plan.js';
export { classify } from './resume-plan.js';

/** How a resumed supervisor takes a task over. */
export interface Restart {
  mode: ResumeAction;
  interrupted?: boolean;
}

/** Attempts the supervisor launched, read from the exec specs it writes right before starting a session. */
async function launchedAttempts(ctx: RunContext): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const id of ctx.journal.state?.order ?? []) {
    const names = await readdir(taskChannelPaths(ctx.paths.dir, id).dir).catch(() => [] as string[]);
    for (const n of names) {
      const m = /^exec-(\d+)\.json$/.exec(n);
      if (m) out.set(id, Math.max(out.get(id) ?? 0, Number(m[1])));
    }
  }
  return out;
}

/**
 * Step one: everything resume needs to know of git, the workers, the workspaces and the run folder,
 * per task, once, through the ports. It looks only where `classify` will read (e.g. landings only
 * for open tasks).
 */
export async function scanWorld(ctx: RunContext, launched: ReadonlyMap<string, number>): Promise<WorldFacts> {
  const state = ctx.journal.state as RunState;
  const stagingTip = await ctx.repository.revParse(`refs/heads/${stagingBranch(ctx.run)}`);
  // Explaining a move refuses one orch did not make (ERR_ORCH_REF_TAMPERED).
  const stagingMove = await explainStagingMove(ctx, stagingTip);
  const tasks: Record<string, TaskFacts> = {};
  for (const id of state.order)
    tasks[id] = await scanTask(ctx, state, state.tasks[id] as TaskState, stagingTip, launched);
  const { finished } = runStance(state);
  const sup = ctx.supervisorSession;
  const supPane = await sup.state();
  return {
    stagingTip,
    ...(stagingMove !== undefined ? { stagingMove } : {}),
    tornTail: await ctx.journal.tornTail(),
    leftoverCommands: (await leftoverCommands(ctx.paths.dir)).map((c) => ({
      pgid: c.pgid,
      command: c.command,
      startedAt: c.startedAt,
    })),
    // Killed after the run ended, before its cleanup: the integration worktree and recycled ones.
    runWorktrees: finished ? await leftRunCheckouts(ctx) : [],
    supervisorSession: { name: sup.name, exists: supPane.exists, dead: supPane.dead },
    tasks,
  };
}

/**
 * The checkouts a finished run's supervisor made on this machine (integration, verification and
 * recycled task worktrees), listed from the local repository: they are the supervisor's own, like
 * its session, and go once the run is over.
 */
async function leftRunCheckouts(ctx: RunContext): Promise<string[]> {
  const integration = integrationWorktreePath(ctx.repoRoot, ctx.config, ctx.run);
  return [
    ...(existsSync(integration) ? [integration] : []),
    ...(await poolWorktrees(ctx)),
    ...(await verifyWorktrees(ctx)),
  ];
}

async function scanTask(
  ctx: RunContext,
  state: RunState,
  t: TaskState,
  stagingTip: string,
  launched: ReadonlyMap<string, number>,
): Promise<TaskFacts> {
  const branchTip = await ctx.repository.tryRevParse(`refs/heads/${taskBranch(ctx.run, t.id)}`);
  const pane = await ctx.workers.state(sessionName(ctx.run, t.id));
  const worktree = t.worktree ? await ctx.workspaces.inspect(t.worktree) : { exists: false, checkout: false };
  const open = !isFinished(t);
  const found = open ? await findLanding(ctx, t.id, stagingTip) : undefined;
  const landing = found
    ? {
        verified: found.verified,
        checked: await ctx.repository.isAncestor(found.commit, state.stagingVerified),
      }
    : undefined;
  const notStarted = t.status === 'pending' || t.status === 'ready';
  const missingDeps = branchTip && notStarted ? await missingDependencies(ctx, t, branchTip) : [];
  return {
    branchTip,
    worktree: {
      exists: worktree.exists,
      git: worktree.checkout,
      dirty:
        worktree.exists && missingDeps.length > 0 && !(await ctx.workspaces.isClean(t.worktree as string)),
    },
    session: {
      exists: pane.exists,
      alive: pane.exists && !pane.dead,
      ...(pane.pid !== undefined ? { pid: pane.pid } : {}),
    },
    ...(landing ? { landing } : {}),
    branchLanded:
      t.status === 'merged' && branchTip !== null && (await landedBranch(ctx, t.id, branchTip, stagingTip)),
    missingDeps,
    launched: launched.get(t.id) ?? 0,
  };
}

/** A task branch that holds nothing staging lacks: its landed verified commit, or contained outright. */
async function landedBranch(ctx: RunContext, task: string, tip: string, staging: string): Promise<boolean> {
  if (await ctx.repository.isAncestor(tip, staging)) return true;
  const landed = await findLanding(ctx, task, staging);
  return landed !== undefined && (await ctx.repository.isAncestor(tip, landed.verified));
}

/** Dependencies whose merge into staging the task's branch does not contain. */
async function missingDependencies(ctx: RunContext, t: TaskState, branchTip: string): Promise<string[]> {
  const state = ctx.journal.state as RunState;
  const out: string[] = [];
  for (const d of t.dependsOn) {
    const merge = state.tasks[d]?.mergeCommit;
    if (merge && !(await ctx.repository.isAncestor(merge, branchTip))) out.push(d);
  }
  return out;
}

export interface PlanResumeOptions {
  /**
   * Journal the reports workers left in their outboxes while no supervisor ran (a `done` the
   * stopped supervisor never took), so the plan sees them. Off for a dry run: it changes nothing.
   */
  takeReports?: boolean;
  /** A context opened already (a distributed run's, on the store's ports). */
  ctx?: RunContext;
  /** Attempts launched as known elsewhere (a distributed run's queued jobs), besides the exec specs here. */
  launched?: ReadonlyMap<string, number>;
}

export async function planResume(
  repoRoot: string,
  run: string,
  orchBin: string,
  opts: PlanResumeOptions = {},
): Promise<{ ctx: RunContext; plan: ResumePlan; facts: WorldFacts }> {
  const ctx = opts.ctx ?? (await openRunContext(repoRoot, run, orchBin));
  const launched = await launchedAttempts(ctx);
  for (const [id, n] of opts.launched ?? []) launched.set(id, Math.max(launched.get(id) ?? 0, n));
  if (opts.takeReports) await takeWaitingReports(ctx, launched);
  const state = ctx.journal.state as RunState;
  if (state.outcome === 'aborted') {
    // Abort removed the run's branches and worktrees: there is nothing left to continue from.
    throw new OrchError(
      'ERR_ORCH_RUN_ABORTED',
      `Run ${run} was aborted${state.finishedAt ? ` at ${state.finishedAt}` : ''}${state.reason ? ` (${state.reason})` : ''}; it has nothing to resume.`,
      {
        hint: `Start the plan again with \`orch run ${state.planPath}\`; its logs stay in .orchestrator/runs/${run}/.`,
      },
    );
  }
  let facts = await scanWorld(ctx, launched);
  if (opts.takeReports) {
    // A worker that ended between the intake's pass and the scan left its report before its exit
    // (`orch task done` writes it first; a host puts it on the channel before it records the exit,
    // and reading that exit pulls the channel): one more pass, and the scan again if it took any.
    const seen = (ctx.journal.state as RunState).eventCount;
    await takeWaitingReports(ctx, launched);
    if ((ctx.journal.state as RunState).eventCount !== seen) facts = await scanWorld(ctx, launched);
  }
  return { ctx, facts, plan: classify(ctx.journal.state as RunState, facts, resumeNames(run)) };
}

function resumeNames(run: string): ResumeNames {
  return {
    taskBranch: (task) => taskBranch(run, task),
    archiveBranch: (task, n) => archiveBranch(run, task, n),
  };
}

/** One pass of the supervisor's intake over every outbox, unless a live supervisor owns them. */
async function takeWaitingReports(ctx: RunContext, launched: Map<string, number>): Promise<void> {
  const s = ctx.journal.state as RunState;
  if (s.supervisorAlive && s.supervisorPid !== undefined && isProcessAlive(s.supervisorPid)) return;
  if (isTerminalPhase(s.phase) && s.outcome !== 'failed' && s.outcome !== 'needs_attention') return;
  // Reports of a launch the journal missed wait for its `task.started` (journaled by the repairs).
  for (const [id, attempt] of launched) ctx.launched.set(id, attempt);
  const intake = new Intake({
    runDir: ctx.paths.dir,
    state: () => ctx.journal.state as RunState,
    append: (ev) => ctx.journal.append(ev),
    launched: ctx.launched,
  });
  try {
    await intake.start();
  } finally {
    intake.close();
  }
}

/**
 * Step three: applies the plan's repairs before a supervisor takes over (journaling each of them)
 * and journals what its actions need; returns how the supervisor takes each task over.
 */
export async function applyRepairs(ctx: RunContext, plan: ResumePlan): Promise<Map<string, Restart>> {
  const journal = ctx.journal;
  const note = (what: string, task?: string): Promise<unknown> =>
    journal.append({ type: 'repair', what, ...(task ? { task } : {}) });
  // The log journals its own repair.
  await journal.repairTail();
  const stagingTip = await ctx.repository.revParse(`refs/heads/${stagingBranch(ctx.run)}`);
  const state = (): RunState => journal.state as RunState;
  const explained = await explainStagingMove(ctx, stagingTip);
  if (explained !== undefined) {
    await journal.append({
      type: 'staging.moved',
      from: state().stagingCommit,
      to: stagingTip,
      reason: explained,
    });
  }
  for (const c of await stopLeftoverCommands(ctx.paths.dir))
    await note(`stopped the leftover command \`${c.command}\` (process group ${c.pgid})`);
  await ctx.workspaces.prune();
  for (const r of plan.repairs) {
    switch (r.kind) {
      case 'record-start': {
        const report = state().tasks[r.task]?.report;
        const session = sessionName(ctx.run, r.task);
        await journal.append({
          type: 'task.started',
          task: r.task,
          attempt: r.attempt,
          session,
          agent: state().tasks[r.task]?.agent ?? ctx.config.agents.default,
          promptPath: taskChannelPaths(ctx.paths.dir, r.task).prompt(r.attempt),
          logPath: join(ctx.paths.logs, `${r.task}-${r.attempt}.log`),
        });
        // task.started clears the report; a report the worker gave meanwhile still counts.
        if (report) {
          await journal.append({
            type: 'task.reported',
            task: r.task,
            status: report.status,
            ...(report.summary ? { summary: report.summary } : {}),
            ...(report.reason ? { reason: report.reason } : {}),
            ...(report.needs ? { needs: report.needs } : {}),
            evidence: {
              source: 'reconcile',
              at: new Date().toISOString(),
              detail: 'reported before its start was journaled',
            },
          });
        }
        await note(r.what, r.task);
        break;
      }
      case 'recreate-worktree': {
        await ensureTaskWorktree(ctx, r.task);
        await note(r.what, r.task);
        break;
      }
      case 'git-locks': {
        const wt = state().tasks[r.task]?.worktree;
        const removed = wt ? await ctx.workspaces.clearGitLocks(r.task, wt) : [];
        if (removed.length > 0)
          await note(`${r.task}: removed stale git locks ${removed.join(', ')}`, r.task);
        break;
      }
      case 'archive': {
        const kept = await ctx.repository.archiveBranch(r.branch, archiveBranch(ctx.run, r.task, 1));
        await ctx.workspaces.remove(
          state().tasks[r.task]?.worktree ?? worktreePath(ctx.repoRoot, ctx.config, r.task),
        );
        if (kept) await ctx.repository.deleteBranch(r.branch);
        await note(`${r.what}: kept as ${kept?.ref ?? '(branch was gone)'}`, r.task);
        break;
      }
      case 'tidy-merged':
        await tidyMerged(ctx, r.task);
        await note(r.what, r.task);
        break;
      case 'run-worktree':
        await removeWorktreesOf(ctx.repo, [r.path]);
        await note(r.what);
        break;
      case 'supervisor-session':
        await ctx.supervisorSession.remove().catch(traced('resume.killSession'));
        await note(r.what);
        break;
      case 'staging':
        await note(r.what);
        break;
      case 'leftover-command': // stopped above, before anything else runs
      case 'journal': // repairJournal above
        break;
      default:
        unhandled(r);
    }
  }
  if (plan.finished) return new Map();
  if (plan.reopen) await journal.append({ type: 'run.phase', phase: 'running', reason: 'resumed' });
  const restarts = new Map<string, Restart>();
  for (const item of plan.items) {
    const t = state().tasks[item.task] as TaskState;
    switch (item.action) {
      case 'merged':
        await journal.append({
          type: 'task.merged',
          task: item.task,
          commit: stagingTip,
          stagingBefore: stagingTip,
          evidence: { source: 'reconcile', at: new Date().toISOString(), detail: item.detail },
        });
        await tidyMerged(ctx, item.task);
        break;
      case 'schedule':
        if (t.status === 'failed' || t.status === 'cancelled')
          await journal.append({ type: 'task.reset', task: item.task, reason: 'resumed' });
        break;
      case 'restart':
        // A dead pane of the interrupted attempt is logged already; the new attempt replaces it.
        await ctx.workers.kill(sessionName(ctx.run, item.task)).catch(traced('resume.killSession'));
        restarts.set(item.task, { interrupted: true, mode: 'restart' });
        break;
      case 'verify':
        if (t.status === 'failed')
          await journal.append({ type: 'task.reset', task: item.task, reason: 'resumed: verify again' });
        // A worker still alive here reported done already (or lost its worktree): it is not needed.
        await ctx.workers.kill(sessionName(ctx.run, item.task)).catch(traced('resume.killSession'));
        restarts.set(item.task, { mode: 'verify' });
        break;
      case 'watch':
      case 'wait':
        restarts.set(item.task, { mode: item.action });
        break;
      case 'none':
        break;
      default:
        unhandled(item.action);
    }
  }
  return restarts;
}

/** A merged task needs nothing more: its session, worktree and (contained) branch go. */
async function tidyMerged(ctx: RunContext, task: string): Promise<void> {
  const t = (ctx.journal.state as RunState).tasks[task];
  await ctx.workers.kill(sessionName(ctx.run, task)).catch(traced('resume.killSession'));
  if (t?.worktree) await ctx.workspaces.remove(t.worktree).catch(traced('resume.removeWorktree'));
  const branch = taskBranch(ctx.run, task);
  const tip = await ctx.repository.tryRevParse(`refs/heads/${branch}`);
  const staging = await ctx.repository.revParse(`refs/heads/${stagingBranch(ctx.run)}`);
  // Only a branch whose work is on staging is deleted: that loses nothing.
  if (tip && (await landedBranch(ctx, task, tip, staging)))
    await ctx.repository.deleteBranch(branch).catch(traced('resume.deleteBranch'));
}

/** The former name of `applyRepairs`. */
export const repairForResume = applyRepairs;

function unhandled(x: never): never {
  throw new Error(`unhandled resume case ${JSON.stringify(x)}`);
}

/**
 * A takeover away from the user's checkout (a distributed run resumed on another machine): the
 * journal's worktrees are paths on the dead supervisor's machine, so each open task that has one (it was started) gets its copy here, from its branch, so
 * resume sees it as the first supervisor did and keeps an attempt a host still runs. The path is
 * journaled first, so the worktree is made (and bootstrapped) here rather than taken from there.
 */
export async function adoptTaskWorktrees(ctx: RunContext): Promise<void> {
  const state = ctx.journal.state as RunState;
  for (const id of state.order) {
    const t = state.tasks[id];
    if (!t?.worktree || isTerminalStatus(t.status)) continue;
    const path = worktreePath(ctx.repoRoot, ctx.config, id);
    if (t.worktree === path && existsSync(path)) continue;
    const branch = taskBranch(ctx.run, id);
    if (!(await ctx.repository.tryRevParse(`refs/heads/${branch}`))) continue;
    if (t.worktree !== path)
      await ctx.journal.append({
        type: 'task.worktree',
        task: id,
        path,
        branch,
        baseCommit: t.baseCommit ?? state.stagingVerified,
      });
    await ensureTaskWorktree(ctx, id);
  }
}

/**
 * Resume reconciles what orch believed (the journal) with what is true (git and tmux), task by task,
 * then hands the run to a new supervisor. `planResume` only looks; `repairForResume` applies the
 * repairs and journals each of them. Nothing that is not merged is ever deleted: a branch that must
 * be replaced is first kept under `orch/<run>/archive/<task>-<n>`.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  OrchError,
  isFinished,
  isTerminalPhase,
  type RunState,
  type TaskState,
  isProcessAlive,
  traced,
} from '@orch/core';
import { archiveRef, pruneWorktrees, removeWorktree } from '@orch/git';
import { repairJournal, taskChannelPaths } from '@orch/store';
import { sessionName, supervisorSessionName } from '@orch/tmux';
import { verifyWorktrees } from '../integrate/worktree.js';
import { explainStagingMove } from '../merge/guard.js';
import { findLanding } from '../merge/queue.js';
import { Intake } from '../supervisor/intake.js';
import { clearWorkerGitLocks, ensureTaskWorktree } from '../worker/launch.js';
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

export type ResumeAction =
  | 'merged' // its branch is in staging already: record it
  | 'watch' // its worker is alive: keep it, watch it again
  | 'verify' // the worker reported done: verify (and merge) it
  | 'restart' // no worker, no report: start it again in the same worktree, told it was interrupted
  | 'wait' // blocked: wait for a decision again
  | 'schedule' // not started yet: the scheduler takes it
  | 'none'; // finished

/** How a resumed supervisor takes a task over. */
export interface Restart {
  mode: ResumeAction;
  interrupted?: boolean;
}

/** One repair a resume makes before the supervisor takes over; each is journaled as a `repair` event. */
export type ResumeRepair = { what: string; task?: string } & (
  | { kind: 'journal' } // a half-written last journal line
  | { kind: 'staging'; from: string; to: string } // staging moved without the journal knowing
  | { kind: 'record-start'; task: string; attempt: number; alive: boolean } // a launch never journaled
  | { kind: 'recreate-worktree'; task: string } // worktree gone, branch present
  | { kind: 'git-locks'; task: string } // lock files a killed worker left in its worktree
  | { kind: 'archive'; task: string; branch: string } // a branch that cannot be continued
  | { kind: 'tidy-merged'; task: string } // worktree, branch or session of a merged task left behind
  | { kind: 'run-worktree'; path: string } // integration or pool worktree left by a run that finished
  | { kind: 'supervisor-session'; session: string } // a dead supervisor pane of a detached run
  | { kind: 'leftover-command'; pgid: number } // a check the dead supervisor left running
);

export interface ResumeItem {
  task: string;
  status: TaskState['status'];
  action: ResumeAction;
  detail: string;
}

export interface ResumePlan {
  run: string;
  phase: RunState['phase'];
  finished: boolean;
  /** The run had ended (failed, or stopped for a person) and is taken up again. */
  reopen: boolean;
  /** The supervisor runs in the background (the run was started with --detach). */
  detached: boolean;
  repairs: ResumeRepair[];
  items: ResumeItem[];
}

interface World {
  stagingTip: string;
  reopen: boolean;
  /** Highest attempt whose exec spec was written per task (launched, maybe never journaled). */
  launched: Map<string, number>;
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

const hasWorktree = (p: string | undefined): p is string => p !== undefined && existsSync(join(p, '.git'));

async function decide(ctx: RunContext, t: TaskState, w: World, repairs: ResumeRepair[]): Promise<ResumeItem> {
  const base = { task: t.id, status: t.status };
  const branch = taskBranch(ctx.run, t.id);
  const branchTip = await ctx.repo.tryRevParse(`refs/heads/${branch}`);
  const session = sessionName(ctx.run, t.id);
  if (t.status === 'merged') {
    const left = [
      t.worktree && existsSync(t.worktree) ? 'worktree' : '',
      branchTip && (await landedBranch(ctx, t.id, branchTip, w.stagingTip)) ? 'branch' : '',
      (await ctx.tmux.hasSession(session)) ? 'session' : '',
    ].filter(Boolean);
    if (left.length > 0)
      repairs.push({
        kind: 'tidy-merged',
        task: t.id,
        what: `${t.id} is merged: remove its leftover ${left.join(', ')}`,
      });
    return { ...base, action: 'none', detail: 'merged' };
  }
  if (w.reopen && t.status === 'failed') {
    return branchTip
      ? {
          ...base,
          action: 'verify',
          detail: 'failed before: verify its branch again (with any fix made by hand), retries renewed',
        }
      : { ...base, action: 'schedule', detail: 'failed before and its branch is gone: start it afresh' };
  }
  if (w.reopen && t.status === 'cancelled')
    return { ...base, action: 'schedule', detail: 'cancelled before: schedule it again' };
  if (isFinished(t)) return { ...base, action: 'none', detail: t.status };
  // Landed is what staging's trailers say (a squashed branch is never an ancestor of staging). A
  // task caught mid-merge is verified and merged again (idempotent), so its incremental check runs.
  const landed = await findLanding(ctx, t.id, w.stagingTip);
  // Recorded as merged only once its incremental check passed (staging's verified tip holds it);
  // otherwise it is verified and merged again below, which runs that check.
  const verified = (ctx.journal.state as RunState).stagingVerified;
  if (landed && t.status !== 'merging') {
    if (await ctx.repo.isAncestor(landed.commit, verified))
      return {
        ...base,
        action: 'merged',
        detail: `its verified commit ${landed.verified.slice(0, 12)} is already on staging`,
      };
    if (hasWorktree(t.worktree))
      return {
        ...base,
        action: 'verify',
        detail: 'it landed on staging before its incremental check finished: verify it and run that check',
      };
  }
  if (t.status === 'blocked' || t.status === 'needs_attention') {
    return {
      ...base,
      action: 'wait',
      detail: t.blockedNeeds ? `waits for ${t.blockedNeeds}` : 'waits for a decision',
    };
  }
  const pane = await ctx.tmux.paneState(session);
  const alive = pane.exists && !pane.dead;
  let running = t.status === 'running';
  let attempt = t.attempt;
  // The supervisor writes an attempt's exec spec, starts its session, then journals `task.started`;
  // a crash in between leaves a worker the journal does not know. Record it instead of starting a twin.
  const launched = w.launched.get(t.id) ?? 0;
  if (launched > t.attempt && (t.status === 'ready' || t.status === 'running')) {
    repairs.push({
      kind: 'record-start',
      task: t.id,
      attempt: launched,
      alive,
      what: `${t.id}: attempt ${launched} was started but never journaled (session ${alive ? 'alive' : 'gone'}): record it`,
    });
    running = true;
    attempt = launched;
  }
  if (!running && (t.status === 'pending' || t.status === 'ready')) {
    const missing = branchTip ? await missingDependencies(ctx, t, branchTip) : [];
    if (
      branchTip &&
      missing.length > 0 &&
      !(t.worktree && existsSync(t.worktree) && !(await ctx.repo.isClean(t.worktree)))
    ) {
      repairs.push({
        kind: 'archive',
        task: t.id,
        branch,
        what: `${t.id}: its branch lacks ${missing.join(', ')}; keep it as ${archiveBranch(ctx.run, t.id, 1)}(-n) and start afresh`,
      });
    }
    return { ...base, action: 'schedule', detail: 'not started yet' };
  }
  const worktreeGone = !hasWorktree(t.worktree);
  if (alive && !worktreeGone && running) {
    return {
      ...base,
      action: 'watch',
      detail: `worker session alive (pid ${pane.pid ?? '?'}, attempt ${attempt}), left running`,
    };
  }
  // From here on no worker runs in the worktree: what a killed one left locked is debris.
  if (!worktreeGone) {
    if (!alive)
      repairs.push({
        kind: 'git-locks',
        task: t.id,
        what: `${t.id}: clear git lock files a stopped worker may have left`,
      });
  } else if (branchTip)
    repairs.push({
      kind: 'recreate-worktree',
      task: t.id,
      what: `${t.id}: its worktree is gone; recreate it from ${branch}`,
    });
  const reported = t.report?.status === 'done' || t.status === 'verifying' || t.status === 'merging';
  if (reported && branchTip)
    return { ...base, action: 'verify', detail: 'reported done; verify and merge it' };
  return {
    ...base,
    action: 'restart',
    detail: branchTip
      ? `no live worker and no report: start attempt ${attempt + 1} in the same worktree, told it was interrupted`
      : `no live worker and its branch is gone: start attempt ${attempt + 1} afresh from staging`,
  };
}

/** A task branch that holds nothing staging lacks: its landed verified commit, or contained outright. */
async function landedBranch(ctx: RunContext, task: string, tip: string, staging: string): Promise<boolean> {
  if (await ctx.repo.isAncestor(tip, staging)) return true;
  const landed = await findLanding(ctx, task, staging);
  return landed !== undefined && (await ctx.repo.isAncestor(tip, landed.verified));
}

/** Dependencies whose merge into staging the task's branch does not contain. */
async function missingDependencies(ctx: RunContext, t: TaskState, branchTip: string): Promise<string[]> {
  const state = ctx.journal.state as RunState;
  const out: string[] = [];
  for (const d of t.dependsOn) {
    const merge = state.tasks[d]?.mergeCommit;
    if (merge && !(await ctx.repo.isAncestor(merge, branchTip))) out.push(d);
  }
  return out;
}

export interface PlanResumeOptions {
  /**
   * Journal the reports workers left in their outboxes while no supervisor ran (a `done` the
   * stopped supervisor never took), so the plan sees them. Off for a dry run: it changes nothing.
   */
  takeReports?: boolean;
}

export async function planResume(
  repoRoot: string,
  run: string,
  orchBin: string,
  opts: PlanResumeOptions = {},
): Promise<{ ctx: RunContext; plan: ResumePlan }> {
  const ctx = await openRunContext(repoRoot, run, orchBin);
  const launched = await launchedAttempts(ctx);
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
  const repairs: ResumeRepair[] = [];
  const torn = await tornTail(ctx);
  if (torn) repairs.push({ kind: 'journal', what: 'cut a half-written last journal line' });
  // Verification and integration commands of a supervisor that died; their watchdogs end them at
  // their deadline anyway, resume ends them now so nothing runs twice.
  for (const c of await leftoverCommands(ctx.paths.dir)) {
    repairs.push({
      kind: 'leftover-command',
      pgid: c.pgid,
      what: `stop the leftover command \`${c.command}\` (process group ${c.pgid}, started ${c.startedAt})`,
    });
  }
  const stagingTip = await ctx.repo.revParse(`refs/heads/${stagingBranch(run)}`);
  // Only a move orch itself made and could not journal is a repair; any other is refused.
  const explained = await explainStagingMove(ctx, stagingTip);
  if (explained !== undefined) {
    repairs.push({
      kind: 'staging',
      from: state.stagingCommit,
      to: stagingTip,
      what: `staging is at ${stagingTip.slice(0, 12)}, the journal said ${state.stagingCommit.slice(0, 12)}: ${explained}`,
    });
  }
  // A run that failed or stopped for a person is taken up again; a succeeded or aborted one is over.
  const reopen = state.outcome === 'failed' || state.outcome === 'needs_attention';
  const finished = state.outcome === 'succeeded' || (isTerminalPhase(state.phase) && !reopen);
  const world: World = { stagingTip, reopen, launched };
  const items: ResumeItem[] = [];
  for (const id of state.order) items.push(await decide(ctx, state.tasks[id] as TaskState, world, repairs));
  if (finished) {
    // Killed after the run ended, before its cleanup: the integration worktree and recycled ones.
    const integration = integrationWorktreePath(ctx.repoRoot, ctx.config, run);
    const leftovers = [...(await poolWorktrees(ctx)), ...(await verifyWorktrees(ctx))];
    for (const path of [...(existsSync(integration) ? [integration] : []), ...leftovers]) {
      repairs.push({ kind: 'run-worktree', path, what: `remove the finished run's worktree ${path}` });
    }
  }
  const sup = supervisorSessionName(run);
  const supPane = await ctx.tmux.paneState(sup);
  if (supPane.exists && (supPane.dead || finished)) {
    repairs.push({
      kind: 'supervisor-session',
      session: sup,
      what: `remove the ended supervisor session ${sup}`,
    });
  }
  return {
    ctx,
    plan: { run, phase: state.phase, finished, reopen, detached: state.detached, repairs, items },
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

async function tornTail(ctx: RunContext): Promise<boolean> {
  const text = await readFile(ctx.paths.events, 'utf8').catch(() => '');
  return text.length > 0 && !text.endsWith('\n');
}

/** Applies the repairs a resume needs before a supervisor takes over; journals each of them. */
export async function repairForResume(ctx: RunContext, plan: ResumePlan): Promise<Map<string, Restart>> {
  const journal = ctx.journal;
  const note = (what: string, task?: string): Promise<unknown> =>
    journal.append({ type: 'repair', what, ...(task ? { task } : {}) });
  // repairJournal journals its own repair.
  await repairJournal(ctx.paths.dir);
  await journal.refresh();
  const stagingTip = await ctx.repo.revParse(`refs/heads/${stagingBranch(ctx.run)}`);
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
  await pruneWorktrees(ctx.repo);
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
        const removed = wt ? await clearWorkerGitLocks(ctx, r.task, wt) : [];
        if (removed.length > 0)
          await note(`${r.task}: removed stale git locks ${removed.join(', ')}`, r.task);
        break;
      }
      case 'archive': {
        const kept = await archiveRef(ctx.repo, r.branch, archiveBranch(ctx.run, r.task, 1));
        const wt = state().tasks[r.task]?.worktree ?? worktreePath(ctx.repoRoot, ctx.config, r.task);
        if (existsSync(wt)) await removeWorktree(ctx.repo, wt, { force: true });
        if (kept) await ctx.repo.deleteBranch(r.branch, { force: true });
        await note(`${r.what}: kept as ${kept?.ref ?? '(branch was gone)'}`, r.task);
        break;
      }
      case 'tidy-merged':
        await tidyMerged(ctx, r.task);
        await note(r.what, r.task);
        break;
      case 'run-worktree':
        await removeWorktree(ctx.repo, r.path, { force: true }).catch(traced('resume.removeWorktree'));
        await note(r.what);
        break;
      case 'supervisor-session':
        await ctx.tmux.killSession(r.session).catch(traced('resume.killSession'));
        await note(r.what);
        break;
      case 'staging':
        await note(r.what);
        break;
      case 'leftover-command': // stopped above, before anything else runs
        break;
      default:
        break;
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
        await ctx.tmux.killSession(sessionName(ctx.run, item.task)).catch(traced('resume.killSession'));
        restarts.set(item.task, { interrupted: true, mode: 'restart' });
        break;
      case 'verify':
        if (t.status === 'failed')
          await journal.append({ type: 'task.reset', task: item.task, reason: 'resumed: verify again' });
        // A worker still alive here reported done already (or lost its worktree): it is not needed.
        await ctx.tmux.killSession(sessionName(ctx.run, item.task)).catch(traced('resume.killSession'));
        restarts.set(item.task, { mode: 'verify' });
        break;
      case 'watch':
      case 'wait':
        restarts.set(item.task, { mode: item.action });
        break;
      default:
        break;
    }
  }
  return restarts;
}

/** A merged task needs nothing more: its session, worktree and (contained) branch go. */
async function tidyMerged(ctx: RunContext, task: string): Promise<void> {
  const t = (ctx.journal.state as RunState).tasks[task];
  await ctx.tmux.killSession(sessionName(ctx.run, task)).catch(traced('resume.killSession'));
  if (t?.worktree && existsSync(t.worktree))
    await removeWorktree(ctx.repo, t.worktree, { force: true }).catch(traced('resume.removeWorktree'));
  const branch = taskBranch(ctx.run, task);
  const tip = await ctx.repo.tryRevParse(`refs/heads/${branch}`);
  const staging = await ctx.repo.revParse(`refs/heads/${stagingBranch(ctx.run)}`);
  // Only a branch whose work is on staging is deleted: that loses nothing.
  if (tip && (await landedBranch(ctx, task, tip, staging)))
    await ctx.repo.deleteBranch(branch, { force: true }).catch(traced('resume.deleteBranch'));
}

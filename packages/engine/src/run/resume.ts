/**
 * Resume reconciles what orch believed (the journal) with what is true (git and tmux), task by task,
 * then hands the run to a new supervisor. It never deletes work that is not merged.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isFinished, type RunState, type TaskState } from '@orch/core';
import { pruneWorktrees, removeWorktree } from '@orch/git';
import { repairJournal, runPaths } from '@orch/store';
import { sessionName } from '@orch/tmux';
import { openRunContext, stagingBranch, taskBranch, type RunContext } from './context.js';

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
  repairs: string[];
  items: ResumeItem[];
}

async function decide(ctx: RunContext, t: TaskState, stagingTip: string, reopen: boolean): Promise<ResumeItem> {
  const base = { task: t.id, status: t.status };
  const branchTip = await ctx.repo.tryRevParse(`refs/heads/${taskBranch(ctx.run, t.id)}`);
  if (reopen && t.status === 'failed') {
    return branchTip
      ? { ...base, action: 'verify', detail: 'failed before: verify its branch again (with any fix made by hand), retries renewed' }
      : { ...base, action: 'schedule', detail: 'failed before and its branch is gone: start it afresh' };
  }
  if (reopen && t.status === 'cancelled') return { ...base, action: 'schedule', detail: 'cancelled before: schedule it again' };
  if (isFinished(t)) return { ...base, action: 'none', detail: t.status };
  // A task caught mid-merge is verified and merged again (idempotent), so its incremental check runs.
  const inStaging =
    branchTip !== null && t.baseCommit !== undefined && branchTip !== t.baseCommit && (await ctx.repo.isAncestor(branchTip, stagingTip));
  if (inStaging && t.status !== 'merging') {
    return { ...base, action: 'merged', detail: `branch ${branchTip.slice(0, 12)} is already in staging` };
  }
  if (t.status === 'pending' || t.status === 'ready') return { ...base, action: 'schedule', detail: 'not started yet' };
  if (t.status === 'blocked' || t.status === 'needs_attention') {
    return { ...base, action: 'wait', detail: t.blockedNeeds ? `waits for ${t.blockedNeeds}` : 'waits for a decision' };
  }
  const pane = await ctx.tmux.paneState(sessionName(ctx.run, t.id));
  const worktreeGone = t.worktree !== undefined && !existsSync(join(t.worktree, '.git'));
  const note = worktreeGone ? (branchTip ? '; its worktree will be recreated from its branch' : '; its worktree is gone') : '';
  if (pane.exists && !pane.dead && !worktreeGone && t.status === 'running') {
    return { ...base, action: 'watch', detail: `worker session alive (pid ${pane.pid ?? '?'}), left running` };
  }
  if (t.report?.status === 'done' || t.status === 'verifying' || t.status === 'merging') {
    return { ...base, action: 'verify', detail: `reported done; verify and merge it${note}` };
  }
  return {
    ...base,
    action: 'restart',
    detail: `no live worker and no report: start attempt ${t.attempt + 1} in the same worktree${note}`,
  };
}

export async function planResume(repoRoot: string, run: string, orchBin: string): Promise<{ ctx: RunContext; plan: ResumePlan }> {
  const repairs: string[] = [];
  const ctx = await openRunContext(repoRoot, run, orchBin);
  const state = ctx.journal.state as RunState;
  const stagingTip = await ctx.repo.revParse(`refs/heads/${stagingBranch(run)}`);
  // A run that failed or stopped for a person is taken up again; a succeeded or aborted one is over.
  const reopen = state.outcome === 'failed' || state.outcome === 'needs_attention';
  const items: ResumeItem[] = [];
  for (const id of state.order) items.push(await decide(ctx, state.tasks[id] as TaskState, stagingTip, reopen));
  if (stagingTip !== state.stagingCommit) repairs.push(`staging is at ${stagingTip.slice(0, 12)}, the journal said ${state.stagingCommit.slice(0, 12)}`);
  const finished = state.outcome === 'succeeded' || state.outcome === 'aborted';
  return { ctx, plan: { run, phase: state.phase, finished, reopen, repairs, items } };
}

/** Applies the repairs a resume needs before a supervisor takes over; journals each of them. */
export async function repairForResume(ctx: RunContext, plan: ResumePlan): Promise<Map<string, Restart>> {
  // repairJournal journals its own repair.
  const repaired = await repairJournal(runPaths(ctx.repoRoot, ctx.run).dir);
  await ctx.journal.refresh();
  const stagingTip = await ctx.repo.revParse(`refs/heads/${stagingBranch(ctx.run)}`);
  const state = ctx.journal.state as RunState;
  if (stagingTip !== state.stagingCommit) {
    await ctx.journal.append({ type: 'staging.moved', from: state.stagingCommit, to: stagingTip, reason: 'reconciled on resume' });
  }
  await pruneWorktrees(ctx.repo);
  if (plan.reopen) await ctx.journal.append({ type: 'run.phase', phase: 'running', reason: 'resumed' });
  const restarts = new Map<string, Restart>();
  for (const item of plan.items) {
    const t = state.tasks[item.task] as TaskState;
    switch (item.action) {
      case 'merged':
        await ctx.journal.append({
          type: 'task.merged',
          task: item.task,
          commit: stagingTip,
          stagingBefore: stagingTip,
          evidence: { source: 'reconcile', at: new Date().toISOString(), detail: item.detail },
        });
        if (t.worktree && existsSync(t.worktree)) await removeWorktree(ctx.repo, t.worktree, { force: true }).catch(() => undefined);
        await ctx.repo.deleteBranch(taskBranch(ctx.run, item.task), { force: true }).catch(() => undefined);
        await ctx.tmux.killSession(sessionName(ctx.run, item.task)).catch(() => undefined);
        break;
      case 'schedule':
        if (t.status === 'failed' || t.status === 'cancelled') {
          await ctx.journal.append({ type: 'task.reset', task: item.task, reason: 'resumed' });
        }
        break;
      case 'restart':
        // A dead pane from the interrupted attempt is logged already; the new attempt replaces it.
        await ctx.tmux.killSession(sessionName(ctx.run, item.task)).catch(() => undefined);
        restarts.set(item.task, { interrupted: true, mode: 'restart' });
        break;
      case 'verify':
        if (t.status === 'failed') await ctx.journal.append({ type: 'task.reset', task: item.task, reason: 'resumed: verify again' });
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
  for (const r of plan.repairs) await ctx.journal.append({ type: 'repair', what: r });
  if (repaired.repaired) plan.repairs.push(`cut a half-written last journal line (${repaired.truncatedBytes} bytes)`);
  return restarts;
}

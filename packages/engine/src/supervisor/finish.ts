/**
 * The end of a run: final integration on staging, the optional review (which may add tasks), then
 * promotion to the base branch, the run report, and an escalation report when the run cannot
 * finish on its own.
 */
import { join } from 'node:path';
import { stringify } from 'yaml';
import { isFinished, terminalSafe, traced, type RunState, type Task } from '@orch/core';
import { writeFileAtomic, writeJsonAtomic } from '@orch/store';
import { runFinalIntegration } from '../integrate/final.js';
import { removeWorktreesOf, verifyWorktrees } from '../integrate/worktree.js';
import { guardedStagingTip } from '../merge/guard.js';
import { reviewEnabled, reviewRun } from '../review/review.js';
import { integrationWorktreePath, requireState, stagingBranch, type RunContext } from '../run/context.js';
import { writeEscalationReport } from './escalation.js';
import { promote } from './promote.js';

/** What the supervisor does once every task is finished: more work (review added tasks) or done. */
export type EndOfTasks = 'more-tasks' | 'done';

export async function finishTasks(ctx: RunContext, opts: { noPromote: boolean }): Promise<EndOfTasks> {
  const state = requireState(ctx);
  const failed = Object.values(state.tasks).filter((t) => t.status === 'failed' || t.status === 'cancelled');
  if (failed.length > 0) {
    const path = await writeEscalationReport(ctx, {
      cause: `${failed.length} task(s) could not be merged`,
      outcome: 'failed',
    });
    await end(ctx, 'failed', `${failed.map((t) => `${t.id} (${t.status})`).join(', ')}; see ${path}`);
    return 'done';
  }
  await ctx.journal.append({ type: 'run.phase', phase: 'integrating' });
  // The journaled tip, checked against the ref: a staging moved by someone else is never integrated.
  const staging = await guardedStagingTip(ctx);
  const integration = await runFinalIntegration(ctx, staging);
  await ctx.journal.append({
    type: 'integration.finished',
    ok: integration.ok,
    commit: staging,
    reportPath: integration.reportPath,
    reason: integration.summary,
  });
  if (!integration.ok) {
    const path = await writeEscalationReport(ctx, {
      cause: `final integration failed: ${integration.summary}`,
      outcome: 'failed',
    });
    await end(ctx, 'failed', `final integration failed; see ${path}`);
    return 'done';
  }
  if (reviewEnabled(ctx)) {
    const next = await review(ctx);
    if (next !== 'accepted') return next;
  }
  if (opts.noPromote || !ctx.config.promotion.enabled) {
    await writeRunReport(ctx);
    await end(ctx, 'succeeded', `staging ${stagingBranch(ctx.run)} is ready; promotion was not requested`);
    return 'done';
  }
  await ctx.journal.append({ type: 'run.phase', phase: 'promoting' });
  // Resumed after a promotion that was journaled: keep its record (abort restores `from`).
  const prev = requireState(ctx).promotion;
  const p = prev?.ok && prev.to === staging ? prev : await promote(ctx);
  await ctx.journal.append({
    type: 'promotion.finished',
    ok: p.ok,
    branch: requireState(ctx).base,
    ...(p.from ? { from: p.from } : {}),
    ...(p.to ? { to: p.to } : {}),
    ...(p.reason ? { reason: p.reason } : {}),
    ...(p.command ? { command: p.command } : {}),
  });
  await writeRunReport(ctx);
  if (p.ok) await end(ctx, 'succeeded');
  else await end(ctx, 'needs_attention', p.reason ?? 'promotion stopped');
  return 'done';
}

/** One review iteration: accept, add tasks (the supervisor schedules them), or escalate at the limit. */
async function review(ctx: RunContext): Promise<'accepted' | EndOfTasks> {
  const iteration = requireState(ctx).reviewIterations + 1;
  await ctx.journal.append({ type: 'run.phase', phase: 'reviewing' });
  const outcome = await reviewRun(ctx, iteration).catch((e: unknown) => ({
    verdict: 'skipped' as const,
    reason: `the review could not run: ${e instanceof Error ? e.message : String(e)}`,
  }));
  const newTasks = outcome.verdict === 'iterate' ? outcome.tasks : [];
  await ctx.journal.append({
    type: 'review.finished',
    iteration,
    verdict: outcome.verdict,
    newTasks: newTasks.map((t) => t.id),
    ...(outcome.verdict === 'skipped'
      ? { reason: outcome.reason }
      : outcome.summary
        ? { reason: outcome.summary }
        : {}),
  });
  if (newTasks.length === 0) return 'accepted';
  if (iteration >= ctx.config.orchestration.max_iterations) {
    const path = await writeEscalationReport(ctx, {
      cause: `the reviewer still asks for changes after ${iteration} iteration(s): ${newTasks.map((t) => t.id).join(', ')}`,
      outcome: 'needs_attention',
    });
    await end(ctx, 'needs_attention', `review iterations exhausted; see ${path}`);
    return 'done';
  }
  await addTasks(ctx, newTasks, `review iteration ${iteration}`);
  await ctx.journal.append({ type: 'run.phase', phase: 'running' });
  return 'more-tasks';
}

/** Appends tasks to the run's frozen plan (so a resumed supervisor sees them) and to the journal. */
export async function addTasks(ctx: RunContext, tasks: Task[], reason: string): Promise<void> {
  ctx.plans.add(tasks);
  await writeFileAtomic(ctx.paths.plan, stringify(ctx.plan));
  const agent = ctx.plan.defaults.agent ?? ctx.config.agents.default;
  await ctx.journal.append({
    type: 'tasks.added',
    reason,
    tasks: tasks.map((t) => ({
      id: t.id,
      dependsOn: t.depends_on,
      agent: t.agent ?? agent,
      ...(t.model ? { model: t.model } : {}),
      description: t.description,
    })),
  });
}

async function end(
  ctx: RunContext,
  outcome: 'succeeded' | 'failed' | 'needs_attention',
  reason?: string,
): Promise<void> {
  await ctx.journal.append({ type: 'run.finished', outcome, ...(reason ? { reason } : {}) });
  await cleanup(ctx);
}

/** Removes what the run no longer needs; staging stays, failed tasks' worktrees stay for inspection. */
async function cleanup(ctx: RunContext): Promise<void> {
  const state = requireState(ctx);
  await ctx.workspaces.drain();
  // The integration and verification checkouts are the supervisor's own, on this machine (made by
  // integrate/worktree.ts on the local repository), not task workspaces.
  const own = [integrationWorktreePath(ctx.repoRoot, ctx.config, ctx.run), ...(await verifyWorktrees(ctx))];
  // Their files (thousands each) are deleted in the background: the run is over, nobody waits.
  await removeWorktreesOf(ctx.repo, own, { deleteLater: true });
  for (const t of Object.values(state.tasks)) {
    if (t.session && isFinished(t)) await ctx.workers.kill(t.session).catch(traced('finish.killSession'));
    // A merged task's worktree that its recycling could not take (it holds nothing unmerged).
    if (t.status === 'merged' && t.worktree)
      await ctx.workspaces.remove(t.worktree).catch(traced('finish.removeWorktree'));
  }
  // A background supervisor's pane would outlive it (remain-on-exit) and keep orch's tmux server up.
  if (state.detached) await ctx.supervisorSession.closeOnExit().catch(traced('finish.closeOnExit'));
}

export async function writeRunReport(ctx: RunContext): Promise<string> {
  const s = requireState(ctx);
  const path = join(ctx.paths.reports, 'report.md');
  // Summaries and reasons come from workers; people `cat` this file in a terminal.
  await writeFileAtomic(path, terminalSafe(renderRunReport(s)));
  await writeJsonAtomic(join(ctx.paths.reports, 'report.json'), summarize(s));
  return path;
}

function summarize(s: RunState): Record<string, unknown> {
  return {
    run: s.run,
    request: s.request,
    base: s.base,
    baseCommit: s.baseCommit,
    staging: s.staging,
    stagingCommit: s.stagingCommit,
    phase: s.phase,
    integration: s.integration,
    promotion: s.promotion,
    tasks: s.order.map((id) => {
      const t = s.tasks[id]!;
      return {
        id,
        status: t.status,
        attempts: t.attempt,
        mergeCommit: t.mergeCommit,
        costUsd: t.usage.costUsd,
      };
    }),
  };
}

export function renderRunReport(s: RunState): string {
  const lines = [
    `# orch run ${s.run}`,
    '',
    `Request: ${s.request || '(none)'}`,
    `Base: ${s.base} (${s.baseCommit.slice(0, 12)}), staging: ${s.staging} (${s.stagingCommit.slice(0, 12)})`,
    '',
    '| task | status | attempts | merge commit |',
    '|---|---|---|---|',
    ...s.order.map((id) => {
      const t = s.tasks[id]!;
      return `| ${id} | ${t.status} | ${t.attempt} | ${t.mergeCommit ? t.mergeCommit.slice(0, 12) : ''} |`;
    }),
    '',
  ];
  if (s.integration)
    lines.push(
      `Final integration: ${s.integration.ok ? 'passed' : `failed (${s.integration.reason ?? ''})`}`,
    );
  if (s.promotion) {
    lines.push(
      s.promotion.ok
        ? `Promotion: ${s.promotion.branch} moved from ${s.promotion.from?.slice(0, 12)} to ${s.promotion.to?.slice(0, 12)}`
        : `Promotion stopped: ${s.promotion.reason ?? ''}${s.promotion.command ? `\nRun: ${s.promotion.command}` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

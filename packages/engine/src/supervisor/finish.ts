/**
 * The end of a run: final integration on staging, promotion to the base branch, the run report,
 * and an escalation report when the run cannot finish on its own.
 */
import { join } from 'node:path';
import { isFinished, type RunState } from '@orch/core';
import { removeWorktree } from '@orch/git';
import { writeFileAtomic, writeJsonAtomic } from '@orch/store';
import { runFinalIntegration } from '../integrate/final.js';
import { integrationWorktreePath, requireState, stagingBranch, type RunContext } from '../run/context.js';
import { promote } from './promote.js';
import { writeEscalationReport } from './escalation.js';

export async function finishRun(ctx: RunContext, opts: { noPromote: boolean }): Promise<void> {
  const state = requireState(ctx);
  const failed = Object.values(state.tasks).filter((t) => t.status === 'failed' || t.status === 'cancelled');
  if (failed.length > 0) {
    const path = await writeEscalationReport(ctx, {
      cause: `${failed.length} task(s) could not be merged`,
    });
    await ctx.journal.append({
      type: 'run.finished',
      outcome: 'failed',
      reason: `${failed.map((t) => `${t.id} (${t.status})`).join(', ')}; see ${path}`,
    });
    await cleanup(ctx);
    return;
  }
  await ctx.journal.append({ type: 'run.phase', phase: 'integrating' });
  const staging = await ctx.repo.revParse(`refs/heads/${stagingBranch(ctx.run)}`);
  const integration = await runFinalIntegration(ctx, staging);
  await ctx.journal.append({
    type: 'integration.finished',
    ok: integration.ok,
    commit: staging,
    reportPath: integration.reportPath,
    ...(integration.ok ? {} : { reason: integration.summary }),
  });
  if (!integration.ok) {
    const path = await writeEscalationReport(ctx, { cause: `final integration failed: ${integration.summary}` });
    await ctx.journal.append({ type: 'run.finished', outcome: 'failed', reason: `final integration failed; see ${path}` });
    await cleanup(ctx);
    return;
  }
  if (opts.noPromote || !ctx.config.promotion.enabled) {
    await writeRunReport(ctx);
    await ctx.journal.append({
      type: 'run.finished',
      outcome: 'succeeded',
      reason: `staging ${stagingBranch(ctx.run)} is ready; promotion was not requested`,
    });
    await cleanup(ctx);
    return;
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
  if (!p.ok) {
    await ctx.journal.append({ type: 'run.finished', outcome: 'needs_attention', reason: p.reason ?? 'promotion stopped' });
  } else {
    await ctx.journal.append({ type: 'run.finished', outcome: 'succeeded' });
  }
  await cleanup(ctx);
}

/** Removes what the run no longer needs; staging stays, failed tasks' worktrees stay for inspection. */
async function cleanup(ctx: RunContext): Promise<void> {
  const state = requireState(ctx);
  await removeWorktree(ctx.repo, integrationWorktreePath(ctx.repoRoot, ctx.config, ctx.run), { force: true }).catch(
    () => undefined,
  );
  for (const t of Object.values(state.tasks)) {
    if (t.session && (t.status === 'merged' || isFinished(t))) await ctx.tmux.killSession(t.session).catch(() => undefined);
  }
}

export async function writeRunReport(ctx: RunContext): Promise<string> {
  const s = requireState(ctx);
  const path = join(ctx.paths.reports, 'report.md');
  await writeFileAtomic(path, renderRunReport(s));
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
      return { id, status: t.status, attempts: t.attempt, mergeCommit: t.mergeCommit, costUsd: t.usage.costUsd };
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
  if (s.integration) lines.push(`Final integration: ${s.integration.ok ? 'passed' : `failed (${s.integration.reason ?? ''})`}`);
  if (s.promotion) {
    lines.push(
      s.promotion.ok
        ? `Promotion: ${s.promotion.branch} moved from ${s.promotion.from?.slice(0, 12)} to ${s.promotion.to?.slice(0, 12)}`
        : `Promotion stopped: ${s.promotion.reason ?? ''}${s.promotion.command ? `\nRun: ${s.promotion.command}` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

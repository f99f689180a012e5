/**
 * The review step after final integration: the reviewer agent (roles/reviewer.md) reads the
 * request, the plan and the cumulative diff at the staging tip, and answers accept or iterate with
 * new tasks. orch validates the answer; one malformed answer is fed back once, a second one skips the
 * review (a review never fails a run that passed its checks). The caller journals the verdict
 * (`review.finished`) and appends the tasks.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Task } from '@orch/core';
import { writeJsonAtomic } from '@orch/store';
import { integrationWorktree } from '../integrate/worktree.js';
import { guardedStagingTip } from '../merge/guard.js';
import { requireState, type RunContext } from '../run/context.js';
import { cumulativeDiff } from './diff.js';
import { runHeadless } from './headless.js';
import { validateNewTasks } from './new-tasks.js';
import { parseReviewAnswer } from './verdict.js';

export type ReviewOutcome =
  | { verdict: 'accept'; summary?: string }
  | { verdict: 'iterate'; tasks: Task[]; summary?: string }
  | { verdict: 'skipped'; reason: string };

/** Review is on when configured, and by default when any task of the run uses Claude Code. */
export function reviewEnabled(ctx: RunContext): boolean {
  const configured = ctx.config.review.enabled;
  if (configured !== undefined) return configured;
  return Object.values(requireState(ctx).tasks).some((t) => t.agent === 'claude');
}

const ATTEMPTS = 2;

export async function reviewRun(ctx: RunContext, iteration: number): Promise<ReviewOutcome> {
  const max = ctx.config.orchestration.max_iterations;
  if (iteration > max)
    return { verdict: 'skipped', reason: `the run already had ${max} review iteration(s)` };
  const state = requireState(ctx);
  // The journaled tip, checked against the ref (a staging moved by someone else is not reviewed).
  const staging = await guardedStagingTip(ctx);
  const checkout = await integrationWorktree(ctx, staging);
  const { stat, diff } = await cumulativeDiff(ctx.repository, state.baseCommit, staging);
  const planText = await readFile(ctx.paths.plan, 'utf8').catch(() => JSON.stringify(ctx.plan, null, 2));
  const base = reviewPrompt({
    run: ctx.run,
    iteration,
    max,
    request: state.request || ctx.plan.request,
    plan: planText,
    range: `${state.baseCommit.slice(0, 12)}..${staging.slice(0, 12)}`,
    stat,
    diff: diff.text,
    truncated: diff.truncated,
  });

  let prompt = base;
  let problem = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
    const r = await runHeadless(ctx, {
      role: 'reviewer',
      name: `review-${iteration}-${attempt}`,
      prompt,
      cwd: checkout,
      timeoutMs: ctx.config.orchestration.task_timeout * 1000,
    });
    if (!r.ok) {
      problem = r.reason;
      if (r.unavailable) break;
      continue;
    }
    const outcome = await judge(ctx, r.text, checkout, iteration);
    await writeJsonAtomic(join(ctx.paths.reports, `review-${iteration}.json`), {
      iteration,
      attempt,
      staging,
      answer: r.text,
      ...(outcome.ok ? { outcome: outcome.value } : { problem: outcome.problem }),
      usage: r.usage ?? null,
      log: r.logPath,
    });
    if (outcome.ok) return outcome.value;
    problem = outcome.problem;
    prompt = `${base}\n## Your previous answer was rejected\n${problem}\n\nIt was:\n\`\`\`\n${r.text.slice(0, 4000)}\n\`\`\`\nAnswer again with exactly one JSON object in the format of your instructions.\n`;
  }
  return { verdict: 'skipped', reason: `review gave no usable answer: ${problem}` };
}

async function judge(
  ctx: RunContext,
  text: string,
  checkout: string,
  iteration: number,
): Promise<{ ok: true; value: ReviewOutcome } | { ok: false; problem: string }> {
  const parsed = parseReviewAnswer(text);
  if (!parsed.ok) return parsed;
  const a = parsed.answer;
  const summary = a.summary ? { summary: a.summary } : {};
  if (a.verdict === 'accept') return { ok: true, value: { verdict: 'accept', ...summary } };
  const v = await validateNewTasks(ctx.plan, a.tasks, {
    checkout,
    config: ctx.config,
    source: `review iteration ${iteration}`,
  });
  if (!v.ok) return v;
  return { ok: true, value: { verdict: 'iterate', tasks: v.tasks, ...summary } };
}

export function reviewPrompt(p: {
  run: string;
  iteration: number;
  max: number;
  request: string;
  plan: string;
  range: string;
  stat: string;
  diff: string;
  truncated: boolean;
}): string {
  return [
    `# Review of orch run ${p.run} (iteration ${p.iteration} of at most ${p.max})`,
    `## The request\n${p.request || '(no request text; judge by the plan)'}`,
    `## The plan that was executed\n\`\`\`yaml\n${p.plan.trimEnd()}\n\`\`\``,
    `## What changed (${p.range})\n\`\`\`\n${p.stat.trimEnd() || '(no changes)'}\n\`\`\``,
    `\`\`\`diff\n${p.diff.trimEnd()}\n\`\`\`` +
      (p.truncated
        ? '\nThe diff above is shortened; read the files it names in your working directory.'
        : ''),
    '## Your answer\nYour working directory is the repository at the reviewed commit; read what you need. ' +
      'Answer with exactly one JSON object: accept, or iterate with new tasks (new ids, exclusive files_write, ' +
      'at least one verification command each).',
    '',
  ].join('\n\n');
}

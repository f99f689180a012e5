/** The report a person reads when a run cannot finish: what failed, why, what is kept, what to do. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { terminalSafe } from '@orch/core';
import { writeFileAtomic } from '@orch/store';
import { requireState, stagingBranch, type RunContext } from '../run/context.js';

export async function writeEscalationReport(
  ctx: RunContext,
  input: { cause: string; outcome: 'failed' | 'needs_attention' },
): Promise<string> {
  const s = requireState(ctx);
  const lines = [
    `# Run ${s.run} needs you`,
    '',
    `Request: ${s.request || '(none)'}`,
    '',
    `## Root cause`,
    '',
    input.cause,
    '',
  ];
  for (const id of s.order) {
    const t = s.tasks[id]!;
    if (t.status !== 'failed' && t.status !== 'cancelled') continue;
    lines.push(`### ${id}: ${t.status}`);
    if (t.failure) lines.push(`- category: ${t.failure.category}`, `- reason: ${t.failure.reason}`);
    if (t.status === 'cancelled') lines.push(`- ${t.lastMessage ?? 'cancelled'}`);
    if (t.verificationReport) lines.push(`- verification report: ${t.verificationReport}`);
    if (t.worktree) lines.push(`- worktree kept: ${t.worktree}`);
    if (t.failure?.report) {
      // What failed and why (offending paths, the failing command's output), not the worker's chatter.
      // Four backticks: the report holds fenced blocks of its own.
      lines.push('', '````', t.failure.report.trimEnd().split('\n').slice(-60).join('\n'), '````');
    } else if (t.logPath) {
      const tail = await readFile(t.logPath, 'utf8').then(
        (x) => x.trimEnd().split('\n').slice(-20).join('\n'),
        () => '',
      );
      if (tail) lines.push('', `Last lines of the worker's log (${t.logPath}):`, '```', tail, '```');
    }
    lines.push('');
  }
  if (s.integration && !s.integration.ok)
    lines.push(`Integration: ${s.integration.reason ?? 'failed'} (${s.integration.reportPath ?? ''})`, '');
  lines.push(
    '## State kept',
    '',
    `- staging branch \`${stagingBranch(s.run)}\` at ${s.stagingCommit.slice(0, 12)} (everything merged so far)`,
    '- the worktrees and branches of failed tasks, their logs and verification reports',
    '',
    '## Options',
    '',
    `1. Fix it by hand in the kept worktree (commit there), then continue: \`orch state resume --run ${s.run}\``,
    '2. Re-plan: edit tasks.yaml (or run `orch plan`), check it with `orch plan check`, and start a new `orch run`',
    // A failed run has ended (abort refuses it); a run that needs attention can still be aborted.
    input.outcome === 'needs_attention'
      ? `3. Give up: \`orch state abort --run ${s.run} --yes\` stops the run and restores what it moved (uncommitted and unmerged work is kept on archive branches)`
      : `3. Give up: \`orch state clean --run ${s.run} --dry-run\` lists the run's branches, worktrees and folder; \`--yes\` removes them (a worktree with uncommitted changes is left until you save or discard them)`,
    '',
  );
  const path = join(ctx.paths.dir, 'escalation-report.md');
  // Reasons and log lines come from workers; people `cat` this file in a terminal.
  await writeFileAtomic(path, terminalSafe(lines.join('\n')));
  return path;
}

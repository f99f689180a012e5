/**
 * What a rejected attempt is told, and what the escalation report and `orch state status` show:
 * the offending paths or the failing command's output, each with what to do next. Pure text.
 */
import { shellQuoteAll, type VerificationReport } from '@orch/core';

type FailureReport = Pick<VerificationReport, 'summary' | 'baseCommit'> &
  Partial<Pick<VerificationReport, 'boundaries' | 'commands' | 'contracts' | 'environment'>>;

/** The retry text of a verification failure: every problem, and how to fix each kind. */
export function renderVerificationFailure(report: FailureReport): string {
  const out: string[] = [report.summary];
  const b = report.boundaries;
  const outside = [...(b?.unauthorized ?? []), ...(b?.forbidden ?? [])];
  if (b && b.unauthorized.length > 0) {
    out.push(
      'Paths changed outside your files_write:',
      ...b.unauthorized.map((u) => `- ${u.path} (${u.rule})`),
    );
  }
  if (b && b.forbidden.length > 0)
    out.push('Forbidden paths changed:', ...b.forbidden.map((u) => `- ${u.path} (${u.rule})`));
  if (b && b.symlinks.length > 0)
    out.push('Symlinks refused:', ...b.symlinks.map((u) => `- ${u.path} (${u.rule})`));
  if (outside.length > 0)
    out.push(
      restoreInstructions(
        report.baseCommit,
        outside.map((u) => u.path),
      ),
    );
  for (const c of report.commands ?? []) {
    if (c.ok || !c.required) continue;
    out.push(`Command failed${c.timedOut ? ' (timed out)' : ''}: ${c.command}`, '```', c.tail, '```');
  }
  if (report.contracts && !report.contracts.ok)
    out.push('Contract problems:', ...report.contracts.problems.map((p) => `- ${p}`));
  if (report.environment && !report.environment.ok) {
    out.push(
      `Lockfiles changed (environment ${report.environment.actual} != ${report.environment.expected}); request packages with \`orch task block --needs\`.`,
    );
  }
  return out.join('\n');
}

/**
 * Boundaries are checked on the net change from the base to the verified commit, so a fix-up
 * commit that puts the paths back passes: no history rewrite is needed.
 */
export function restoreInstructions(base: string, paths: string[]): string {
  const quoted = shellQuoteAll(paths);
  return [
    `To fix: put these paths back as they are at your base commit ${base.slice(0, 12)} and commit; only the`,
    'net change since the base is checked, so a fix-up commit on top of your work is enough:',
    '```',
    `git restore --source=${base} --staged --worktree -- ${quoted}`,
    'git commit -m "restore files outside this task"',
    '```',
    'If the change is needed, say so with `orch task fail --reason "<which file, why>"` so the plan can give it to a task that owns it.',
  ].join('\n');
}

/** The retry text of an incremental integration failure after staging was merged into the worktree. */
export function renderIntegrationFailure(i: {
  command: string;
  output: string;
  logPath: string;
  /** Tasks merged into staging since this task's base, oldest first. */
  mergedSince: string[];
  /** How bringing staging into the worktree went. */
  sync: { ok: true } | { ok: false; conflicts: string[] } | { ok: false; error: string };
}): string {
  const out = [
    `After your branch was merged into staging, the integration command failed there:`,
    '```',
    `$ ${i.command}`,
    i.output.trimEnd(),
    '```',
    `(full log: ${i.logPath})`,
    i.mergedSince.length > 0
      ? `Merged into staging since your base: ${i.mergedSince.join(', ')}. Your work may break against theirs.`
      : 'Nothing else was merged into staging since your base.',
  ];
  if (i.sync.ok)
    out.push(
      'Current staging has been merged into your worktree: run the command above there to reproduce the failure, fix it, commit.',
    );
  else if ('conflicts' in i.sync)
    out.push(
      `Current staging has been merged into your worktree with conflicts in: ${i.sync.conflicts.join(', ')}. Resolve them, commit, then run the command above.`,
    );
  else out.push(`Staging could not be merged into your worktree (${i.sync.error}); merge it yourself first.`);
  return out.join('\n');
}

/** How many lines of a command's output a one-screen view shows. */
const DETAIL_LINES = 6;

const lastLines = (text: string, n = DETAIL_LINES): string[] => text.trimEnd().split('\n').slice(-n);

/** The short form for `orch state status`: the offending paths and the end of each failing output. */
export function verificationDetail(report: FailureReport): string {
  const b = report.boundaries;
  const out = [
    ...(b?.unauthorized ?? []).map((u) => `outside files_write: ${u.path}`),
    ...(b?.forbidden ?? []).map((u) => `forbidden: ${u.path} (${u.rule})`),
    ...(b?.symlinks ?? []).map((u) => `symlink: ${u.path} (${u.rule})`),
  ];
  for (const c of report.commands ?? []) {
    if (c.ok || !c.required) continue;
    out.push(`$ ${c.command}${c.timedOut ? ' (timed out)' : ''}`, ...lastLines(c.tail));
  }
  if (report.contracts && !report.contracts.ok) out.push(...report.contracts.problems);
  if (report.environment && !report.environment.ok) out.push('lockfiles changed');
  return out.join('\n');
}

/** The short form of an integration failure: the command and the end of its output. */
export function commandDetail(command: string, output: string): string {
  return [`$ ${command}`, ...lastLines(output)].join('\n');
}

/** The short form of a worker's log tail. */
export function logDetail(tail: string): string {
  return lastLines(tail).join('\n');
}

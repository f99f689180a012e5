/** The readable form of a verification report, for a terminal. */
// File names, summaries and command output come from the worker: printed terminal-safe.
import { terminalSafeLine as safe, type VerificationReport } from '@orch/core';
import { paint } from '../../output.js';

const ok = (b: boolean): string => (b ? paint('green', '✓') : paint('red', '✗'));

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export function renderReport(r: VerificationReport, reportPath: string): string {
  const out: string[] = [];
  const verdict = r.ok ? paint('green', 'passed') : paint('red', 'failed');
  out.push(`${ok(r.ok)} task ${paint('bold', r.task)} ${verdict} verification (attempt ${r.attempt})`);
  out.push(`  ${safe(r.summary)}`);
  out.push(`  head ${r.headCommit.slice(0, 12)}, base ${r.baseCommit.slice(0, 12)}`);
  if (r.committedLeftovers !== null) {
    out.push(
      paint('yellow', `  uncommitted changes were committed by orch as ${r.committedLeftovers.slice(0, 12)}`),
    );
  }

  const b = r.boundaries;
  out.push('', `${ok(b.ok)} Boundaries: ${b.changed.length} changed path(s)`);
  if (b.unauthorized.length > 0) {
    out.push(`  unauthorized (${b.unauthorized.length}):`);
    for (const v of b.unauthorized) out.push(`    ${safe(v.path)}  ${paint('dim', `(${safe(v.rule)})`)}`);
  }
  if (b.forbidden.length > 0) {
    out.push(`  forbidden (${b.forbidden.length}):`);
    for (const v of b.forbidden) out.push(`    ${safe(v.path)}  ${paint('dim', `(rule: ${safe(v.rule)})`)}`);
  }
  if (b.symlinks.length > 0) {
    out.push(`  symlinks (${b.symlinks.length}):`);
    for (const v of b.symlinks) out.push(`    ${v.path}  ${paint('dim', `(${v.rule})`)}`);
  }

  out.push('', `${ok(r.commands.every((c) => c.ok || !c.required))} Commands: ${r.commands.length}`);
  if (r.commands.length === 0) out.push(paint('dim', '  (the task has no verification commands)'));
  for (const c of r.commands) {
    const why = c.timedOut
      ? 'timed out'
      : c.zeroTests
        ? 'ran zero tests'
        : c.ok
          ? 'ok'
          : `exit ${c.exitCode ?? 'signal'}`;
    const optional = c.required ? '' : paint('dim', ' (optional)');
    out.push(`  ${ok(c.ok)} [${c.type}] ${c.command}${optional}  ${why}, ${seconds(c.durationMs)}`);
    if (!c.ok) {
      out.push(paint('dim', `      log: ${c.logPath}`));
      for (const line of c.tail.split('\n')) out.push(`      │ ${safe(line)}`);
    }
  }

  out.push('', `${ok(r.contracts.ok)} Contracts${r.contracts.ok ? ': ok' : ':'}`);
  for (const p of r.contracts.problems) out.push(`    ${safe(p)}`);

  const e = r.environment;
  out.push(
    '',
    e.ok
      ? `${ok(true)} Environment: lockfile hash ${e.actual}${e.actual === e.expected ? '' : ' (changes approved)'}`
      : `${ok(false)} Environment: lockfiles changed: hash ${e.actual}, the run has ${e.expected}`,
  );
  out.push('', paint('dim', `Report: ${reportPath}`));
  return out.join('\n');
}

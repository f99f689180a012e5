/** Compact text renderings of the analyzer reports. */
import type { ConflictReport, ContractsReport, DagReport, PlanCheckReport, RiskReport } from '@orch/core';
import { paint } from '../../output.js';

const ok = (): string => paint('green', '✓');
const bad = (): string => paint('red', '✗');
const warn = (): string => paint('yellow', '⚠');

export function formatDag(r: DagReport): string[] {
  if (!r.valid) return r.errors.map((e) => `${bad()} ${e}`);
  const lines = [
    `${ok()} DAG valid: ${r.total_tasks} task${r.total_tasks === 1 ? '' : 's'} in ${r.total_waves} wave${r.total_waves === 1 ? '' : 's'}`,
  ];
  r.waves.forEach((w, i) => lines.push(`  Wave ${i + 1}: ${w.join(', ')}`));
  lines.push(`Critical path (${r.critical_path_length}): ${r.critical_path.join(' → ')}`);
  return lines;
}

export function formatConflicts(r: ConflictReport): string[] {
  if (r.count === 0) return [`${ok()} No conflicts detected`];
  const lines = [
    `${bad()} ${r.count} conflict${r.count === 1 ? '' : 's'} between tasks that may run at the same time`,
  ];
  for (const c of r.conflicts) {
    lines.push(`  [${c.type.toUpperCase()}] ${c.target}`);
    lines.push(`    Tasks: ${c.tasks.join(', ')}`);
    lines.push(`    ${paint('dim', c.detail)}`);
    lines.push(`    Fix: ${c.suggestion}`);
  }
  return lines;
}

export function formatRisk(r: RiskReport): string[] {
  const color = r.status === 'AUTO-APPROVE' ? 'green' : r.status === 'REQUIRES REVIEW' ? 'yellow' : 'red';
  const lines = [
    `Risk Score: ${r.score} (${paint(color, r.status)})`,
    `Threshold: ${r.auto_approve_threshold} (auto-approve at or below; high risk above ${r.auto_approve_threshold * 2})`,
  ];
  if (r.factors.length > 0) {
    lines.push('Factors:');
    for (const f of r.factors) lines.push(`  - ${f}`);
  } else lines.push('Factors: none');
  lines.push(r.auto_approve ? `${ok()} Safe to auto-approve` : `${warn()} Human review recommended`);
  return lines;
}

export function formatContracts(r: ContractsReport): string[] {
  const lines: string[] = [];
  if (r.contracts.length === 0 && r.errors.length === 0) return [`${ok()} No contracts in the plan`];
  for (const c of r.contracts)
    lines.push(
      `${c.status === 'ok' ? ok() : bad()} ${c.name}: ${c.status === 'ok' ? `${c.file_path} version ${c.expected_version}` : c.message}`,
    );
  for (const e of r.errors) lines.push(`${bad()} ${e}`);
  for (const w of r.warnings) lines.push(`${warn()} ${w}`);
  return lines;
}

export function formatPlanCheck(source: string, r: PlanCheckReport): string[] {
  const lines = [`Plan ${source}: ${r.schema.total_tasks} task${r.schema.total_tasks === 1 ? '' : 's'}`];
  const mark = (good: boolean): string => (good ? ok() : bad());
  lines.push(`${ok()} schema     valid`);
  const d = r.dag;
  lines.push(
    `${mark(d.valid)} dag        ${d.valid ? `${d.total_waves} wave${d.total_waves === 1 ? '' : 's'}, critical path ${d.critical_path.join(' → ')} (${d.critical_path_length})` : 'invalid'}`,
  );
  if (!d.valid) lines.push(...formatDag(d).map((l) => `    ${l}`));
  lines.push(
    `${mark(r.conflicts.count === 0)} conflicts  ${r.conflicts.count === 0 ? 'none' : r.conflicts.count}`,
  );
  if (r.conflicts.count > 0)
    lines.push(
      ...formatConflicts(r.conflicts)
        .slice(1)
        .map((l) => `  ${l}`),
    );
  const riskMark = r.risk.auto_approve ? ok() : warn();
  lines.push(
    `${riskMark} risk       ${r.risk.score} (${r.risk.status}, threshold ${r.risk.auto_approve_threshold})${r.risk.factors.length ? `: ${r.risk.factors.join(', ')}` : ''}`,
  );
  const cs = r.contracts;
  const okCount = cs.contracts.filter((c) => c.status === 'ok').length;
  lines.push(
    `${mark(cs.ok)} contracts  ${cs.contracts.length === 0 ? 'none' : `${okCount}/${cs.contracts.length} ok`}`,
  );
  if (!cs.ok || cs.warnings.length > 0)
    lines.push(
      ...formatContracts(cs)
        .filter((l) => !l.includes('✓'))
        .map((l) => `    ${l}`),
    );
  const verdict =
    r.exitCode === 0
      ? paint('green', 'OK')
      : r.exitCode === 3
        ? paint('yellow', 'NEEDS APPROVAL')
        : paint('red', 'FAILED');
  lines.push(`Result: ${verdict} (exit ${r.exitCode})`);
  return lines;
}

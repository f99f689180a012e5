/** The demo's closing summary, built from the run's final state and the events it saw. */
import { readFile } from 'node:fs/promises';
import type { RunEvent, RunState } from '@orch/core';
import { paint } from '../../output.js';

export interface DemoSummary {
  dir: string;
  kept: boolean;
  run: string;
  outcome: RunState['outcome'] | 'stopped';
  reason?: string;
  seconds: number;
  tasks: number;
  attempts: number;
  merged: { task: string; commit: string; attempts: number }[];
  /** Attempts the gates turned back, with why. */
  rejected: {
    task: string;
    category: string;
    reason: string;
    retried: boolean;
    reportPath?: string;
    paths?: string[];
  }[];
  integration?: { ok: boolean; reason?: string };
  promotion?: { ok: boolean; branch: string; from?: string; to?: string; reason?: string };
  report: string;
}

export function summarizeDemo(
  state: RunState,
  events: readonly RunEvent[],
  o: { dir: string; kept: boolean; seconds: number; report: string },
): DemoSummary {
  const tasks = state.order.map((id) => state.tasks[id]).filter((t) => t !== undefined);
  const merges = events.filter((e) => e.type === 'task.merged');
  return {
    dir: o.dir,
    kept: o.kept,
    run: state.run,
    outcome: state.outcome ?? 'stopped',
    ...(state.reason ? { reason: state.reason } : {}),
    seconds: Math.round(o.seconds * 10) / 10,
    tasks: tasks.length,
    attempts: tasks.reduce((n, t) => n + t.attempt, 0),
    merged: merges.map((e) => ({
      task: e.task,
      commit: e.commit,
      attempts: state.tasks[e.task]?.attempt ?? 1,
    })),
    rejected: rejections(events),
    ...(state.integration
      ? {
          integration: {
            ok: state.integration.ok,
            ...(state.integration.reason ? { reason: state.integration.reason } : {}),
          },
        }
      : {}),
    ...(state.promotion ? { promotion: { ...state.promotion } } : {}),
    report: o.report,
  };
}

/** Attempts turned back, each with the verification report that judged it (when there was one). */
function rejections(events: readonly RunEvent[]): DemoSummary['rejected'] {
  const reports = new Map<string, string>();
  const out: DemoSummary['rejected'] = [];
  for (const e of events) {
    if (e.type === 'task.verified' && !e.ok && e.reportPath) reports.set(e.task, e.reportPath);
    if (e.type !== 'task.failed') continue;
    const reportPath = e.reportPath ?? reports.get(e.task);
    reports.delete(e.task);
    out.push({
      task: e.task,
      category: e.category,
      reason: e.reason,
      retried: !e.final,
      ...(reportPath ? { reportPath } : {}),
    });
  }
  return out;
}

export function renderSummary(s: DemoSummary): string[] {
  const ok = s.outcome === 'succeeded';
  const out = [
    '',
    paint(ok ? 'green' : 'red', paint('bold', `Demo run ${s.run} ${String(s.outcome).replace('_', ' ')}`)) +
      (s.reason && !ok ? `: ${s.reason}` : ''),
    `  ${s.tasks} tasks, ${s.attempts} attempts, ${s.seconds} s`,
  ];
  for (const r of s.rejected) {
    out.push(
      `  ${paint('yellow', 'rejected')} ${r.task} (${r.category}): ${r.reason}${r.retried ? '; retried' : '; not retried'}`,
    );
    if (r.paths?.length) out.push(`    outside its files: ${r.paths.join(', ')}`);
  }
  if (s.merged.length > 0) {
    out.push(`  merged into staging, in order:`);
    for (const m of s.merged) {
      out.push(
        `    ${m.task.padEnd(8)} ${m.commit.slice(0, 8)}${m.attempts > 1 ? `  (attempt ${m.attempts})` : ''}`,
      );
    }
  }
  if (s.integration)
    out.push(`  final integration: ${s.integration.ok ? 'passed' : `failed: ${s.integration.reason ?? ''}`}`);
  if (s.promotion) {
    out.push(
      s.promotion.ok
        ? `  promoted ${s.promotion.branch}: ${s.promotion.from?.slice(0, 8)} → ${s.promotion.to?.slice(0, 8)}`
        : `  not promoted: ${s.promotion.reason ?? ''}`,
    );
  }
  if (s.kept) {
    out.push(
      `  report: ${s.report}`,
      '',
      'Look at the result:',
      `  git -C ${s.dir} log --oneline --graph`,
      `  cd ${s.dir} && node --test`,
      `  cd ${s.dir} && orch dashboard --run ${s.run}`,
    );
  } else {
    out.push(`  removed ${s.dir} (keep it next time with --keep, or give the demo a folder)`);
  }
  return out;
}

/** Adds the paths a rejected attempt wrote outside its files, read from its verification report. */
export async function addRejectedPaths(s: DemoSummary): Promise<void> {
  for (const r of s.rejected) {
    if (!r.reportPath) continue;
    try {
      const report = JSON.parse(await readFile(r.reportPath, 'utf8')) as {
        boundaries?: {
          unauthorized?: { path: string }[];
          forbidden?: { path: string }[];
          symlinks?: { path: string }[];
        };
      };
      const b = report.boundaries;
      const paths = [...(b?.unauthorized ?? []), ...(b?.forbidden ?? []), ...(b?.symlinks ?? [])].map(
        (p) => p.path,
      );
      if (paths.length > 0) r.paths = paths;
    } catch {
      // no report (the attempt failed before verification): the reason says enough
    }
  }
}

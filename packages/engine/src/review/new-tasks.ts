/**
 * Tasks a reviewer proposes are untrusted input: they must fit the plan they extend (new ids, the
 * plan schema and its rules on the old and new tasks together) and pass `plan check`.
 */
import { ExitCode, OrchError, checkPlan, parsePlan, type Config, type Plan, type Task } from '@orch/core';

export type NewTasksResult = { ok: true; tasks: Task[]; plan: Plan } | { ok: false; problem: string };

export async function validateNewTasks(
  plan: Plan,
  proposed: unknown[],
  opts: { checkout: string; config: Config; source: string },
): Promise<NewTasksResult> {
  const existing = new Set(plan.tasks.map((t) => t.id));
  const clashes = proposed
    .map((t) => (t !== null && typeof t === 'object' ? (t as Record<string, unknown>)['id'] : undefined))
    .filter((id): id is string => typeof id === 'string' && existing.has(id));
  if (clashes.length > 0) {
    return {
      ok: false,
      problem: `task id(s) already in the plan: ${[...new Set(clashes)].join(', ')}; new tasks need new ids`,
    };
  }
  let combined: Plan;
  try {
    combined = parsePlan(JSON.stringify({ ...plan, tasks: [...plan.tasks, ...proposed] }), opts.source);
  } catch (e) {
    return { ok: false, problem: e instanceof OrchError ? e.message : String(e) };
  }
  const tasks = combined.tasks.slice(plan.tasks.length);
  // Every old task is merged before a new one starts; say so to the analyzers, so that a fix to a
  // file an old task wrote is not reported as a conflict with that task.
  const oldIds = plan.tasks.map((t) => t.id);
  const asRun: Plan = {
    ...combined,
    tasks: [
      ...combined.tasks.slice(0, plan.tasks.length),
      ...tasks.map((t) => ({ ...t, depends_on: [...new Set([...t.depends_on, ...oldIds])] })),
    ],
  };
  const report = await checkPlan(asRun, { repoRoot: opts.checkout, config: opts.config });
  if (report.exitCode === ExitCode.Failed) {
    const problems = [
      ...report.dag.errors,
      ...report.conflicts.conflicts.map((c) => `${c.detail} (${c.suggestion})`),
      ...report.contracts.errors,
      ...report.contracts.contracts.filter((c) => c.status !== 'ok').map((c) => c.message),
    ];
    return {
      ok: false,
      problem: `the new tasks do not pass plan check: ${problems.join('; ') || 'see `orch plan check`'}`,
    };
  }
  return { ok: true, tasks, plan: combined };
}

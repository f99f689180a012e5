import type { RunEventInput } from '@orch/core';

type RunStarted = Extract<RunEventInput, { type: 'run.started' }>;
type PlannedTask = RunStarted['tasks'][number];

/**
 * A `run.started` event for tests that write a journal by hand: `shell` tasks without
 * dependencies (or the given planned tasks), every other field a placeholder unless overridden.
 */
export function runStarted(
  tasks: readonly (string | PlannedTask)[],
  overrides: Partial<Omit<RunStarted, 'type' | 'tasks'>> = {},
): RunStarted {
  const run = overrides.run ?? 'r1';
  const baseCommit = overrides.baseCommit ?? 'a'.repeat(40);
  return {
    type: 'run.started',
    run,
    request: 'test request',
    repoRoot: '/repo',
    planPath: 'tasks.yaml',
    base: 'main',
    baseCommit,
    staging: `orch/${run}/staging`,
    stagingCommit: baseCommit,
    envHash: 'h',
    maxWorkers: 2,
    detached: false,
    ...overrides,
    tasks: tasks.map((t) =>
      typeof t === 'string' ? { id: t, dependsOn: [], agent: 'shell', description: '' } : t,
    ),
  };
}

/** One `shell` task of a plan: its script, what it may write and how it is checked. */
export interface ShellTask {
  id: string;
  run: string;
  files_write: string[];
  depends_on?: string[];
  /** Verification commands; `true` when none is given. */
  verify?: string[];
}

/** A `tasks.yaml` of `shell` tasks (scripts as YAML block scalars, so they are kept verbatim). */
export function shellPlan(tasks: readonly ShellTask[], head = ''): string {
  const list = (xs: readonly string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  const lines = [head ? head.trimEnd() : '', 'tasks:'].filter(Boolean);
  for (const t of tasks) {
    lines.push(`  - id: ${t.id}`, '    agent: shell');
    if (t.depends_on?.length) lines.push(`    depends_on: ${list(t.depends_on)}`);
    lines.push(`    files_write: ${list(t.files_write)}`);
    const verify = t.verify ?? ['true'];
    lines.push(`    verification: [${verify.map((c) => `{ command: ${JSON.stringify(c)} }`).join(', ')}]`);
    lines.push(
      '    run: |',
      ...t.run
        .trimEnd()
        .split('\n')
        .map((l) => `      ${l}`),
    );
  }
  return `${lines.join('\n')}\n`;
}

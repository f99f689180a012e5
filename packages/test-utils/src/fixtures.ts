import { realpath } from 'node:fs/promises';
import type { RunEventInput } from '@orch/core';
import { appendEvent, createRunDir, runPaths, setCurrentRun } from '@orch/store';
import { tempRepo, type TempRepo } from './git.js';

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

/**
 * One plan entry (YAML, to follow a `tasks:` line) of a `shell` task that fails unless its
 * dependencies' files are in its worktree, writes `src/<id>.txt` and commits it once (restart-safe:
 * a rerun after a crash commits nothing twice), then reports progress and done. `pause` (seconds)
 * keeps it running a moment, so a test can interrupt it.
 */
export function writerTaskYaml(id: string, deps: readonly string[], opts: { pause?: number } = {}): string {
  const checks = deps.map((d) => `test -f src/${d}.txt || { echo "missing ${d}"; exit 3; }`).join('\n      ');
  return `
  - id: ${id}
    description: write src/${id}.txt
    agent: shell
    files_write: [src/${id}.txt]
    depends_on: [${deps.join(', ')}]
    verification:
      - command: test -s src/${id}.txt
        type: check
    run: |
      ${checks || 'true'}${opts.pause ? `\n      sleep ${opts.pause}` : ''}
      mkdir -p src
      echo "${id} after ${deps.join(',') || 'nothing'}" > src/${id}.txt
      git add -A
      git diff --cached --quiet || git commit -qm "${id}"
      orch task progress "wrote src/${id}.txt"
      orch task done --summary "${id} done"`;
}

/** A repository with a run started in it by hand (no supervisor): what a command reading a run needs. */
export interface StartedRunRepo {
  repo: TempRepo;
  /** The repository root with symlinks resolved (as orch records it). */
  root: string;
  run: string;
  runDir: string;
}

/**
 * A temp repository (with `files`), a run folder with a signed `run.started` of `shell` tasks, and
 * the run marked current. Overrides go into the event.
 */
export async function startedRunRepo(
  tasks: readonly (string | PlannedTask)[],
  opts: { files?: Record<string, string>; event?: Partial<Omit<RunStarted, 'type' | 'tasks' | 'run'>> } = {},
): Promise<StartedRunRepo> {
  const repo = await tempRepo(opts.files);
  const root = await realpath(repo.root);
  const run = await createRunDir(root);
  const runDir = runPaths(root, run).dir;
  await appendEvent(runDir, runStarted(tasks, { run, repoRoot: root, ...opts.event }));
  await setCurrentRun(root, run);
  return { repo, root, run, runDir };
}

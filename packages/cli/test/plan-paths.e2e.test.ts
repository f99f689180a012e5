/** Where `orch plan check` and `orch run` find the plan, and what they say about a plan or repo they cannot use. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentRun, isolatedTmux, runOrch, tempRepo, type TempRepo } from '@orch/test-utils';
import { orchInProcess } from './in-process.js';

const PLAN = `request: one file
tasks:
  - id: a
    agent: shell
    files_write: [a.txt]
    verification: [{ command: "test -s a.txt" }]
    run: |
      echo a > a.txt && git add -A && git commit -qm a && orch task done --summary "a written"
`;

describe('finding the plan', () => {
  let repo: TempRepo;
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;
  beforeEach(async () => {
    repo = await tempRepo({ 'README.md': '# x\n', 'tasks.yaml': PLAN, 'src/deep/keep.txt': 'k\n' });
    tmux = await isolatedTmux();
  });
  afterEach(async () => {
    await tmux.cleanup();
    await repo.cleanup();
  });

  it('orch plan check without an argument checks tasks.yaml, also from a subdirectory', async () => {
    const atRoot = await orchInProcess(['plan', 'check'], { cwd: repo.root });
    expect(atRoot.exitCode, atRoot.stderr).toBe(0);
    expect(atRoot.stdout).toMatch(/^Plan tasks\.yaml: 1 task/);
    const below = await orchInProcess(['plan', 'check'], { cwd: join(repo.root, 'src', 'deep') });
    expect(below.exitCode, below.stderr).toBe(0);
    expect(below.stdout).toMatch(/^Plan \.\.\/\.\.\/tasks\.yaml: 1 task/);
  });

  it('orch plan check warns about an unknown config key and names the one it resembles', async () => {
    await repo.write('.claude-agents.yaml', 'orchestration:\n  max_paralel_workers: 9\n');
    const r = await orchInProcess(['plan', 'check'], { cwd: repo.root });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'warning: .claude-agents.yaml:2:3: orchestration.max_paralel_workers: unknown key, ignored (did you mean "max_parallel_workers"?)',
    );
    const json = JSON.parse(
      (await orchInProcess(['plan', 'check', '--json'], { cwd: repo.root })).stdout,
    ) as {
      config_warnings: string[];
    };
    expect(json.config_warnings).toHaveLength(1);
  });

  it('orch run from a subdirectory runs the plan at the repository root', async () => {
    const r = await runOrch(['run', '--no-tui', '--yes'], {
      cwd: join(repo.root, 'src', 'deep'),
      env: tmux.env,
      timeoutMs: 150_000,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const run = await currentRun(repo.root);
    expect(await repo.git('show', `orch/${run}/staging:a.txt`)).toBe('a');
  });

  it('orch plan check fails a shell task without run: and points dependency errors at file:line:col', async () => {
    await repo.write(
      'bad.yaml',
      `tasks:
  - id: a
    agent: shell
    files_write: [a.txt]
    verification: [{ command: "true" }]
`,
    );
    const scriptless = await orchInProcess(['plan', 'check', 'bad.yaml'], { cwd: repo.root });
    expect(scriptless.exitCode).toBe(1);
    expect(scriptless.stderr).toMatch(
      /bad\.yaml:2:5: tasks\[0\]: task "a" uses the shell agent but has no run script/,
    );

    await repo.write(
      'cycle.yaml',
      `tasks:
  - id: a
    run: "true"
    agent: shell
    depends_on: [b]
    verification: [{ command: "true" }]
  - id: b
    run: "true"
    agent: shell
    depends_on: [ghost, a]
    verification: [{ command: "true" }]
`,
    );
    const unknown = await orchInProcess(['plan', 'check', 'cycle.yaml'], { cwd: repo.root });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stdout).toContain("cycle.yaml:10:18: Task 'b' depends on 'ghost' which does not exist");
    const json = await orchInProcess(['plan', 'check', 'cycle.yaml', '--json'], { cwd: repo.root });
    const report = JSON.parse(json.stdout) as { dag: { issues: { path: string; line: number }[] } };
    expect(report.dag.issues).toEqual([
      expect.objectContaining({ path: 'tasks[1].depends_on[0]', line: 10 }),
    ]);
  });
});

describe('orch run with --agent shell', () => {
  let repo: TempRepo;
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;
  beforeEach(async () => {
    const plan = 'tasks:\n  - id: a\n    files_write: [a.txt]\n    verification: [{ command: "true" }]\n';
    repo = await tempRepo({ 'README.md': '# x\n', 'tasks.yaml': plan });
    tmux = await isolatedTmux();
  });
  afterEach(async () => {
    await tmux.cleanup();
    await repo.cleanup();
  });

  it('refuses a task without run: before starting anything, not when the task is reached', async () => {
    const r = await runOrch(['run', '--no-tui', '--yes', '--agent', 'shell'], {
      cwd: repo.root,
      env: tmux.env,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      'ERR_ORCH_PLAN_REJECTED: Task a would run with the shell agent but has no run script.',
    );
    expect(await repo.git('branch', '--format=%(refname:short)')).toBe('main');
  });
});

describe('a repository without commits', () => {
  let dir: string;
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orch-empty-'));
    await execa('git', ['init', '-q', '-b', 'main'], { cwd: dir });
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'tasks.yaml'), PLAN);
    tmux = await isolatedTmux();
  });
  afterEach(async () => {
    await tmux.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('is told to commit once first, and nothing is created', async () => {
    const r = await runOrch(['run', '--no-tui', '--yes'], { cwd: dir, env: tmux.env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('ERR_ORCH_NO_COMMITS');
    expect(r.stderr).toMatch(/hint: Commit once first/);
    expect(r.stderr).not.toMatch(/--base/);
    const refs = await execa('git', ['for-each-ref'], { cwd: dir });
    expect(refs.stdout).toBe('');
  });
});

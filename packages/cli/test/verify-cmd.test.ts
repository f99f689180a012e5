/** `orch verify` in-process (as the binary runs it), on real repositories and a real (hand-made) run. */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VerificationReport } from '@orch/core';
import { taskBranch } from '@orch/engine';
import { appendEvent, createRunDir, runPaths, setCurrentRun } from '@orch/store';
import { runStarted, tempRepo, type TempRepo } from '@orch/test-utils';
import { orchInProcess } from './in-process.js';

const repos: TempRepo[] = [];
afterEach(async () => {
  for (const r of repos.splice(0)) await r.cleanup();
});

const PLAN = `tasks:
  - id: api
    files_write: ['src/**', 'dist/**']
    verification:
      - command: printf 'arg=%s\\n' {modified_files}
        type: check
      - command: echo broken-build; exit 4
        type: build
      - command: echo lint-note; exit 1
        type: lint
        required: false
`;

/** A repository with a worktree for task `api` holding an allowed, an unauthorized and a forbidden change. */
async function setup(plan = PLAN): Promise<{ repo: TempRepo; worktree: string; base: string }> {
  const repo = await tempRepo({ 'README.md': '# x\n' });
  repos.push(repo);
  const base = await repo.git('rev-parse', 'HEAD');
  await repo.write('tasks.yaml', plan);
  const worktree = join(repo.root, '.worktrees', 'api');
  await repo.write('.git/info/exclude', '/.worktrees/\n/tasks.yaml\n');
  await repo.git('worktree', 'add', '-q', '-b', taskBranch('r', 'api'), worktree, base);
  await mkdir(join(worktree, 'src'), { recursive: true });
  await mkdir(join(worktree, 'dist'), { recursive: true });
  await writeFile(join(worktree, 'src', 'my api.ts'), 'export {};\n');
  await writeFile(join(worktree, 'dist', 'api.js'), 'x\n');
  await writeFile(join(worktree, 'stray.txt'), 'x\n');
  return { repo, worktree, base };
}

const orch = (cwd: string, ...args: string[]) =>
  orchInProcess(args, { cwd, env: { ORCH_RUN: '', ORCH_TASK: '' } });

describe('orch verify', () => {
  it('prints unauthorized and forbidden paths with their rules, every command, and exits 1', async () => {
    const { repo } = await setup();
    const r = await orch(
      repo.root,
      'verify',
      'api',
      '--worktree',
      '.worktrees/api',
      '--base',
      'main',
      '--plan',
      'tasks.yaml',
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe('');
    const out = r.stdout;
    expect(out).toContain('task api failed verification');
    expect(out).toContain('uncommitted changes were committed by orch');
    // Leftovers outside the task's bounds are named, and not committed under the task's name.
    expect(out).toMatch(
      /unauthorized \(1\):\n\s+stray\.txt\s+\(not in files_write or files_append \(left uncommitted; orch did not commit it\)\)/,
    );
    expect(out).toMatch(
      /forbidden \(1\):\n\s+dist\/api\.js\s+\(rule: dist\/ \(left uncommitted; orch did not commit it\)\)/,
    );
    expect(out).toContain('✓ [check]');
    expect(out).toMatch(/✗ \[build\] echo broken-build; exit 4\s+exit 4/);
    expect(out).toContain('│ broken-build');
    expect(out).toMatch(/✗ \[lint\] .*\(optional\)/);
    expect(out).toMatch(/Report: .*report\.json/);
  });

  it('prints the report as JSON with --json', async () => {
    const { repo } = await setup();
    const args = [
      'verify',
      'api',
      '--worktree',
      '.worktrees/api',
      '--base',
      'main',
      '--plan',
      'tasks.yaml',
      '--json',
    ];
    const r = await orch(repo.root, ...args);
    expect(r.exitCode).toBe(1);
    const json = JSON.parse(r.stdout) as Record<string, unknown>;
    const report = VerificationReport.parse(json);
    expect(report.categories).toEqual(['boundary_violation', 'test_failed']);
    // {modified_files} lists only what orch committed: the refused leftovers are not among them.
    expect(report.commands[0]?.tail).toBe('arg=src/my api.ts');
    expect(existsSync(json.reportPath as string)).toBe(true);
    // orch's files stay out of the user's status.
    expect(await repo.git('status', '--porcelain')).toBe('');
  });

  it('exits 0 when everything passes', async () => {
    const plan = `tasks:\n  - id: api\n    files_write: ['src/**', 'stray.txt']\n    verification:\n      - command: 'true'\n`;
    const { repo, worktree } = await setup(plan);
    await rm(join(worktree, 'dist'), { recursive: true });
    const r = await orch(
      repo.root,
      'verify',
      'api',
      '--worktree',
      worktree,
      '--base',
      'main',
      '--plan',
      'tasks.yaml',
    );
    expect(r.stdout).toContain('task api passed verification');
    expect(r.exitCode).toBe(0);
  });

  it('verifies a task of a run from its recorded worktree, base commit and environment hash', async () => {
    const { repo, worktree, base } = await setup();
    const run = await createRunDir(repo.root);
    const dir = runPaths(repo.root, run).dir;
    await writeFile(runPaths(repo.root, run).plan, PLAN);
    await appendEvent(
      dir,
      runStarted(['api'], {
        run,
        request: 'test',
        repoRoot: repo.root,
        baseCommit: base,
        envHash: 'no-lock',
        maxWorkers: 1,
      }),
    );
    await appendEvent(dir, {
      type: 'task.worktree',
      task: 'api',
      path: worktree,
      branch: taskBranch('r', 'api'),
      baseCommit: base,
    });
    await setCurrentRun(repo.root, run);
    const r = await orch(repo.root, 'verify', 'api', '--json');
    expect(r.exitCode).toBe(1);
    const report = VerificationReport.parse(JSON.parse(r.stdout));
    expect(report.baseCommit).toBe(base);
    expect(report.boundaries.unauthorized.map((v) => v.path)).toEqual(['stray.txt']);
    expect(report.environment).toEqual({ ok: true, expected: 'no-lock', actual: 'no-lock' });
    expect(existsSync(join(runPaths(repo.root, run).verify, 'api-manual', 'report.json'))).toBe(true);

    const wrongRun = await orch(repo.root, 'verify', 'api', '--run', 'nope');
    expect(wrongRun.exitCode).toBe(1);
    expect(wrongRun.stderr).toContain('ERR_ORCH_RUN_NOT_FOUND');
  });

  it('explains usage and unknown tasks without a stack trace', async () => {
    const { repo } = await setup();
    const partial = await orch(repo.root, 'verify', 'api', '--plan', 'tasks.yaml');
    expect(partial.exitCode).toBe(2);
    expect(partial.stderr).toContain('ERR_ORCH_USAGE');

    const unknown = await orch(
      repo.root,
      'verify',
      'nope',
      '--worktree',
      '.worktrees/api',
      '--base',
      'main',
      '--plan',
      'tasks.yaml',
    );
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('ERR_ORCH_UNKNOWN_TASK');
    expect(unknown.stderr).toContain('Tasks in this plan: api');
    expect(unknown.stderr).not.toMatch(/\n\s+at /);

    const help = await orch(repo.root, 'verify', '--help');
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('$ orch verify');
  });
});

/** Where `orch run` finds the plan, and what it says about a plan or repo it cannot use (`orch plan check`: plan-paths.test.ts). */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentRun, isolatedTmux, runOrch, tempRepo, type TempRepo } from '@orch/test-utils';
import { ONE_FILE_PLAN as PLAN } from './plan-fixture.js';

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

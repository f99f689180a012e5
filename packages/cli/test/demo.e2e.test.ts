/** `orch demo` end to end without a terminal (the live dashboard's run: demo-dashboard.e2e.test.ts). */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ExitCode, type RunEvent } from '@orch/core';
import { runOrch } from '@orch/test-utils';
import { BASE_FILES, SAMPLE_TASKS } from '../src/commands/demo/sample.js';
import { demoEach } from './demo-fixture.js';

describe('orch demo', () => {
  const w = demoEach();

  it('refuses a folder that is not empty, touching nothing', async () => {
    await writeFile(join(w.scratch, 'mine.txt'), 'keep me\n');
    const r = await runOrch(['demo', w.scratch, '--no-tui'], { cwd: w.scratch, env: w.env });
    expect(r.exitCode).toBe(ExitCode.Usage);
    expect(r.stderr).toMatch(/ERR_ORCH_DEMO_DIR_NOT_EMPTY/);
    expect(await readdir(w.scratch)).toEqual(['mine.txt']);
  });

  it('stops before the run when tmux is missing, saying so, and leaves no temporary folder', async () => {
    const bin = join(w.scratch, 'bin');
    const temp = join(w.scratch, 'tmp');
    await mkdir(bin);
    await mkdir(temp);
    const gitPath = (await execa('sh', ['-c', 'command -v git'])).stdout.trim();
    await symlink(gitPath, join(bin, 'git'));
    const r = await runOrch(['demo', '--no-tui'], {
      cwd: w.scratch,
      env: { ...w.env, PATH: bin, TMPDIR: temp },
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/tmux/);
    expect(await readdir(temp)).toEqual([]);
  });

  it('runs the sample plan end to end: the boundary gate rejects toc once, every task merges, main is promoted', async () => {
    const dir = join(w.scratch, 'textkit');
    const r = await runOrch(['demo', dir, '--no-tui'], { cwd: w.scratch, env: w.env, timeoutMs: 170_000 });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/toc rejected \(boundary_violation\)/);
    expect(r.stdout).toMatch(/outside its files: README\.md/);
    expect(r.stdout).toMatch(/Demo run \S+ succeeded/);
    expect(r.stdout).toMatch(/7 tasks, 8 attempts/);
    expect(r.stdout).toContain(`git -C ${dir} log --oneline --graph`);

    const git = async (...args: string[]): Promise<string> => (await execa('git', args, { cwd: dir })).stdout;
    const run = (await readFile(join(dir, '.orchestrator', 'current'), 'utf8')).trim();
    const events = (await readFile(join(dir, '.orchestrator', 'runs', run, 'events.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent);
    // Every task merged exactly once; toc only on its second attempt, after a boundary rejection.
    const merged = events.filter((e) => e.type === 'task.merged').map((e) => e.task);
    expect([...merged].sort()).toEqual(SAMPLE_TASKS.map((t) => t.id).sort());
    const failed = events.filter((e) => e.type === 'task.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ task: 'toc', category: 'boundary_violation', final: false });
    const tocStarts = events.filter((e) => e.type === 'task.started' && e.task === 'toc');
    expect(tocStarts.map((e) => (e.type === 'task.started' ? e.attempt : 0))).toEqual([1, 2]);
    expect(merged.indexOf('toc')).toBeGreaterThan(merged.indexOf('slug'));
    expect(merged.indexOf('cli')).toBeGreaterThan(Math.max(merged.indexOf('toc'), merged.indexOf('summary')));
    expect(events.some((e) => e.type === 'integration.finished' && e.ok)).toBe(true);

    // main was promoted to staging, holds every module, and not the rejected README edit.
    expect(await git('rev-parse', 'main')).toBe(await git('rev-parse', `orch/${run}/staging`));
    const tree = (await git('ls-tree', '-r', '--name-only', 'main')).split('\n');
    for (const t of SAMPLE_TASKS) for (const f of Object.keys(t.files)) expect(tree).toContain(f);
    expect(await git('show', 'main:README.md')).toBe(BASE_FILES['README.md']!.trimEnd());
    expect(await git('status', '--porcelain')).toBe('');
    const worktrees = (await git('worktree', 'list', '--porcelain'))
      .split('\n')
      .filter((l) => l.startsWith('worktree '));
    expect(worktrees).toHaveLength(1);
    // The result works: the project's own tests pass in the user's checkout.
    const tests = await execa(process.execPath, ['--test'], { cwd: dir, reject: false });
    expect(tests.exitCode).toBe(0);
    // The report the summary points to exists, and the plan is on main.
    expect(existsSync(join(dir, '.orchestrator', 'runs', run, 'reports', 'report.md'))).toBe(true);
    expect(parse(await git('show', 'main:tasks.yaml'))).toMatchObject({ defaults: { agent: 'shell' } });
  }, 180_000);
});

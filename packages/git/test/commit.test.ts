import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { Repo } from '../src/repo.js';
import { commitLeftovers, snapshotWorktree } from '../src/commit.js';
import { commitFilesOnto, safeRepoPath } from '../src/commit-files.js';
import { addWorktree } from '../src/worktree.js';

let repos: TempRepo[] = [];
afterEach(async () => {
  await Promise.all(repos.map((r) => r.cleanup()));
  repos = [];
});
async function fresh(files?: Record<string, string>): Promise<TempRepo> {
  const r = await tempRepo(files);
  repos.push(r);
  return r;
}

describe('commitLeftovers', () => {
  it('commits modified, deleted and untracked files but not ignored ones', async () => {
    const t = await fresh({ '.gitignore': 'ignored/\n', 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const repo = await Repo.open(t.root);
    await repo.ensureExcluded(['.worktrees/']);
    const wt = await addWorktree(repo, { path: '.worktrees/t', branch: 'orch/r/t', commit: 'HEAD' });
    const before = await repo.revParse('orch/r/t');
    await t.write('.worktrees/t/a.txt', 'changed\n');
    await t.write('.worktrees/t/new dir/untracked.txt', 'u\n');
    await t.write('.worktrees/t/ignored/x.log', 'log\n');
    await t.git('-C', wt.path, 'rm', '-q', 'b.txt');
    const c = await commitLeftovers(wt.path, 'orch: commit leftovers');
    expect(c).not.toBeNull();
    expect(await repo.revParse('orch/r/t')).toBe(c);
    expect(await repo.isAncestor(before, c!)).toBe(true);
    const files = (await repo.lsTree(c!)).map((e) => e.path).sort();
    expect(files).toEqual(['.gitignore', 'a.txt', 'new dir/untracked.txt']);
    expect(await repo.readFileAt(c!, 'a.txt')).toBe('changed\n');
    expect(await repo.isClean(wt.path)).toBe(true);
    expect((await t.git('log', '-1', '--format=%s', c!)).trim()).toBe('orch: commit leftovers');
    // The main checkout saw none of it.
    expect(await repo.isClean(t.root)).toBe(true);
  });

  it('returns null when the worktree is clean', async () => {
    const t = await fresh();
    expect(await commitLeftovers(t.root, 'nothing')).toBeNull();
  });
});

describe('snapshotWorktree', () => {
  it('commits tracked changes and untracked files (not ignored ones) without touching index, HEAD or files', async () => {
    const t = await fresh({ '.gitignore': '*.log\n', 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const head = await t.git('rev-parse', 'HEAD');
    await t.write('a.txt', 'edited\n');
    await t.git('add', 'a.txt'); // one change staged, the others not
    await t.write('b.txt', 'b too\n');
    await t.write('new/c.txt', 'c\n');
    await t.write('x.log', 'noise\n');
    const status = await t.git('status', '--porcelain');
    const index = await readFile(join(t.root, '.git', 'index'));
    const snap = await snapshotWorktree(t.root, 'snapshot');
    expect(snap?.head).toBe(head);
    expect(await t.git('rev-parse', `${snap!.commit}^`)).toBe(head);
    expect(await t.git('show', `${snap!.commit}:a.txt`)).toBe('edited');
    expect(await t.git('show', `${snap!.commit}:b.txt`)).toBe('b too');
    expect(await t.git('show', `${snap!.commit}:new/c.txt`)).toBe('c');
    expect(await t.git('ls-tree', '-r', '--name-only', snap!.commit)).not.toContain('x.log');
    expect(await t.git('rev-parse', 'HEAD')).toBe(head);
    expect(await t.git('status', '--porcelain')).toBe(status);
    expect(await readFile(join(t.root, '.git', 'index'))).toEqual(index);
    expect(await readFile(join(t.root, 'b.txt'), 'utf8')).toBe('b too\n');
  });

  it('returns null for a clean worktree', async () => {
    const t = await fresh();
    expect(await snapshotWorktree(t.root, 'x')).toBeNull();
  });
});

describe('commitFilesOnto', () => {
  it('commits files onto a branch and leaves the checkout and index byte-identical', async () => {
    const t = await fresh({ 'tasks.yaml': 'old\n', 'src/x.ts': 'x\n' });
    const repo = await Repo.open(t.root);
    const head = await repo.revParse('HEAD');
    await repo.createBranch('orch/r/staging', head);
    // A dirty user checkout: staged, unstaged and untracked changes.
    await t.write('src/x.ts', 'staged\n');
    await t.git('add', 'src/x.ts');
    await t.write('src/x.ts', 'unstaged\n');
    await t.write('tasks.yaml', 'user edit\n');
    await t.write('untracked.txt', 'u\n');
    const index = await readFile(join(repo.commonDir, 'index'));
    const status = await repo.statusPorcelain(t.root);
    const files = await Promise.all(
      ['src/x.ts', 'tasks.yaml', 'untracked.txt'].map((p) => readFile(join(t.root, p))),
    );

    const r = await commitFilesOnto(repo, {
      branch: 'orch/r/staging',
      message: 'orch: add plan',
      files: [
        { path: 'tasks.yaml', content: 'tasks: []\n' },
        { path: 'contracts/api v1.md', content: '# API\n' },
        { path: 'bin/run.sh', content: '#!/bin/sh\n', mode: '100755' },
      ],
    });
    expect(r.changed).toBe(true);
    expect(r.previous).toBe(head);
    expect(await repo.revParse('orch/r/staging')).toBe(r.commit);
    expect(await repo.readFileAt(r.commit, 'tasks.yaml')).toBe('tasks: []\n');
    expect(await repo.readFileAt(r.commit, 'contracts/api v1.md')).toBe('# API\n');
    expect(await repo.readFileAt(r.commit, 'src/x.ts')).toBe('x\n');
    expect((await repo.lsTree(r.commit)).find((e) => e.path === 'bin/run.sh')?.mode).toBe('100755');

    expect(await readFile(join(repo.commonDir, 'index'))).toEqual(index);
    expect(await repo.statusPorcelain(t.root)).toEqual(status);
    const after = await Promise.all(
      ['src/x.ts', 'tasks.yaml', 'untracked.txt'].map((p) => readFile(join(t.root, p))),
    );
    expect(after).toEqual(files);
    expect(await repo.revParse('main')).toBe(head);

    // Same content again: no new commit.
    const again = await commitFilesOnto(repo, {
      branch: 'orch/r/staging',
      message: 'orch: add plan',
      files: [{ path: 'tasks.yaml', content: 'tasks: []\n' }],
    });
    expect(again).toEqual({ commit: r.commit, previous: r.commit, changed: false });
  });

  it('refuses a moved branch, a checked-out branch and paths leaving the repository', async () => {
    const t = await fresh();
    const repo = await Repo.open(t.root);
    const head = await repo.revParse('HEAD');
    await repo.createBranch('s', head);
    const files = [{ path: 'a', content: 'a' }];
    await expect(
      commitFilesOnto(repo, { branch: 's', files, message: 'm', expectedOld: '0'.repeat(40) }),
    ).rejects.toMatchObject({ code: 'ERR_ORCH_REF_MOVED' });
    await expect(commitFilesOnto(repo, { branch: 'main', files, message: 'm' })).rejects.toMatchObject({
      code: 'ERR_ORCH_REF_CHECKED_OUT',
    });
    expect(await repo.revParse('main')).toBe(head);
    for (const bad of ['../x', '/etc/passwd', '.git/config', 'a/../../b', 'sub/.GIT/hooks/x', '']) {
      expect(() => safeRepoPath(bad)).toThrow(/inside the repository/);
    }
    expect(safeRepoPath('./contracts//a.md')).toBe('contracts/a.md');
  });
});

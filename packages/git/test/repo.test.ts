import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { OrchError } from '@orch/core';
import { runGit } from '../src/exec.js';
import { Repo } from '../src/repo.js';
import { addWorktree } from '../src/worktree.js';
import { assertGitVersion, compareVersions, gitVersion, parseGitVersion } from '../src/version.js';

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

describe('Repo.open', () => {
  it('resolves the main root from a subdirectory and from a linked worktree', async () => {
    const t = await fresh({ 'src/a.ts': 'a\n' });
    const repo = await Repo.open(join(t.root, 'src'));
    expect(repo.root).toBe(t.root);
    expect(repo.commonDir).toBe(join(t.root, '.git'));
    const wt = await addWorktree(repo, { path: '.worktrees/t1', branch: 'orch/r/t1', commit: 'HEAD' });
    const fromWt = await Repo.open(wt.path);
    expect(fromWt.root).toBe(t.root);
    expect(fromWt.commonDir).toBe(repo.commonDir);
  });

  it('throws ERR_ORCH_NOT_A_REPO outside a repository', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orch-norepo-'));
    try {
      const err = await Repo.open(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OrchError);
      expect((err as OrchError).code).toBe('ERR_ORCH_NOT_A_REPO');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Repo queries', () => {
  it('resolves refs, ancestry and merge bases', async () => {
    const t = await fresh();
    const repo = await Repo.open(t.root);
    const c1 = await repo.revParse('HEAD');
    await t.write('b.txt', 'b\n');
    const c2 = await t.commitAll('second');
    expect(await repo.tryRevParse('nope')).toBeNull();
    await expect(repo.revParse('nope')).rejects.toMatchObject({ code: 'ERR_ORCH_REF_NOT_FOUND' });
    await expect(repo.tryRevParse('--all')).rejects.toMatchObject({ code: 'ERR_ORCH_INVALID_REF' });
    expect(await repo.isAncestor(c1, c2)).toBe(true);
    expect(await repo.isAncestor(c2, c1)).toBe(false);
    expect(await repo.mergeBase(c1, c2)).toBe(c1);
    await t.git('checkout', '-q', '--orphan', 'other');
    await t.git('commit', '-q', '--allow-empty', '-m', 'unrelated');
    expect(await repo.mergeBase('other', 'main')).toBeNull();
  });

  it('creates, lists, renames and deletes branches', async () => {
    const t = await fresh();
    const repo = await Repo.open(t.root);
    const head = await repo.revParse('HEAD');
    await repo.createBranch('orch/r1/a', head);
    await repo.createBranch('orch/r1/b', head);
    await repo.createBranch('orch/r10/c', head);
    await expect(repo.createBranch('orch/r1/a', head)).rejects.toMatchObject({
      code: 'ERR_ORCH_BRANCH_EXISTS',
    });
    await expect(repo.createBranch('bad..name', head)).rejects.toMatchObject({
      code: 'ERR_ORCH_INVALID_BRANCH',
    });
    await expect(repo.createBranch('-x', head)).rejects.toMatchObject({ code: 'ERR_ORCH_INVALID_BRANCH' });
    const listed = await repo.listBranches('orch/r1/');
    expect(listed.map((b) => b.name).sort()).toEqual(['orch/r1/a', 'orch/r1/b']);
    expect(listed.every((b) => b.commit === head)).toBe(true);
    await repo.renameBranch('orch/r1/b', 'orch/r1/bb');
    expect(await repo.branchExists('orch/r1/b')).toBe(false);
    expect(await repo.branchExists('orch/r1/bb')).toBe(true);
    expect(await repo.deleteBranch('orch/r1/bb')).toBe(true);
    expect(await repo.deleteBranch('orch/r1/bb')).toBe(false);
    expect(await repo.currentBranch()).toBe('main');
    const map = await repo.checkedOutBranches();
    expect(map.get('main')).toBe(t.root);
  });

  it('reports status entries for names with spaces and newlines, and cleanliness', async () => {
    const t = await fresh();
    const repo = await Repo.open(t.root);
    expect(await repo.isClean(t.root)).toBe(true);
    await t.write('dir/with space.txt', 'x');
    await t.write('new\nline.txt', 'y');
    await t.write('README.md', 'changed\n');
    const st = await repo.statusPorcelain(t.root);
    expect(st.sort()).toEqual([' M README.md', '?? dir/with space.txt', '?? new\nline.txt']);
    expect(await repo.isClean(t.root)).toBe(false);
    await t.commitAll('all');
    await t.git('mv', 'README.md', 'READ ME.md');
    expect(await repo.statusPorcelain(t.root)).toContain('R  READ ME.md');
  });

  it('adds exclude patterns once, to info/exclude and never to .gitignore', async () => {
    const t = await fresh();
    const repo = await Repo.open(t.root);
    await repo.ensureExcluded(['.orchestrator/', '.worktrees/']);
    await repo.ensureExcluded(['.orchestrator/', '.worktrees/', '.orchestrator/']);
    const text = await readFile(join(repo.commonDir, 'info', 'exclude'), 'utf8');
    expect(text.split('\n').filter((l) => l === '.orchestrator/')).toHaveLength(1);
    expect(text.split('\n').filter((l) => l === '.worktrees/')).toHaveLength(1);
    await expect(readFile(join(t.root, '.gitignore'), 'utf8')).rejects.toThrow();
    await mkdir(join(t.root, '.orchestrator'));
    await t.write('.orchestrator/x.json', '{}');
    expect(await repo.isClean(t.root)).toBe(true);
    await expect(repo.ensureExcluded(['a\nb'])).rejects.toMatchObject({ code: 'ERR_ORCH_INVALID_PATTERN' });
  });

  it('reads files at a commit byte for byte, and lists trees', async () => {
    const t = await fresh({ 'a.txt': 'one\n\n', 'sub/b c.txt': 'no newline' });
    const repo = await Repo.open(t.root);
    const c = await repo.revParse('HEAD');
    expect(await repo.readFileAt(c, 'a.txt')).toBe('one\n\n');
    expect(await repo.readFileAt(c, 'sub/b c.txt')).toBe('no newline');
    expect(await repo.readFileAt(c, 'missing.txt')).toBeNull();
    const tree = await repo.lsTree(c);
    expect(tree.map((e) => e.path).sort()).toEqual(['a.txt', 'sub/b c.txt']);
    expect(
      tree.every((e) => e.type === 'blob' && e.mode === '100644' && /^[0-9a-f]{40,64}$/.test(e.object)),
    ).toBe(true);
  });
});

describe('git version', () => {
  it('parses versions and accepts the local git', async () => {
    expect(parseGitVersion('git version 2.39.5')).toEqual({ major: 2, minor: 39, patch: 5 });
    expect(parseGitVersion('git version 2.50.1 (Apple Git-155)')).toEqual({ major: 2, minor: 50, patch: 1 });
    expect(parseGitVersion('git version 2.45.2.windows.1')).toEqual({ major: 2, minor: 45, patch: 2 });
    expect(
      compareVersions({ major: 2, minor: 37, patch: 9 }, { major: 2, minor: 38, patch: 0 }),
    ).toBeLessThan(0);
    const v = await gitVersion();
    expect(v.major).toBeGreaterThanOrEqual(2);
    await expect(assertGitVersion()).resolves.toEqual(v);
    const err = await assertGitVersion({ major: 99, minor: 0, patch: 0 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_ORCH_GIT_VERSION' });
    expect((err as OrchError).hint).toMatch(/Upgrade git/);
  });
});

describe('runGit', () => {
  let repo: TempRepo | undefined;
  afterEach(async () => {
    await repo?.cleanup();
    repo = undefined;
  });

  it.runIf(process.platform === 'linux')(
    'runs git in a process group of its own, out of reach of the terminal’s SIGHUP and Ctrl-C',
    async () => {
      repo = await tempRepo({ 'README.md': '# x\n' });
      const pgrp = async (pid: string | number): Promise<string> =>
        (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /s, '').split(' ')[2] as string;
      // A shell alias runs as git's child, in git's process group.
      const r = await runGit(['-c', 'alias.pgrp=!cut -d")" -f2 /proc/$$/stat | cut -d" " -f4', 'pgrp'], {
        cwd: repo.root,
      });
      expect(r.stdout).toMatch(/^\d+$/);
      expect(r.stdout).not.toBe(await pgrp(process.pid));
    },
  );
});

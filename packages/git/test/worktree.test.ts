import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { Repo } from '../src/repo.js';
import { addWorktree, listWorktrees, pruneWorktrees, removeWorktree } from '../src/worktree.js';
import { LOCK_FILE, isGitRace, withRepoLock } from '../src/lock.js';

let repos: TempRepo[] = [];
afterEach(async () => {
  await Promise.all(repos.map((r) => r.cleanup()));
  repos = [];
});
async function fresh(): Promise<{ t: TempRepo; repo: Repo; head: string }> {
  const t = await tempRepo();
  repos.push(t);
  const repo = await Repo.open(t.root);
  await repo.ensureExcluded(['.worktrees/']);
  return { t, repo, head: await repo.revParse('HEAD') };
}

describe('addWorktree', () => {
  it('writes the files outside the repository lock, and finishes a worktree a crash left without them', async () => {
    const { t, repo, head } = await fresh();
    const made = await addWorktree(repo, { path: '.worktrees/a', branch: 'orch/r/a', commit: head });
    expect(await readFile(join(made.path, 'README.md'), 'utf8')).toBe('# test\n');
    expect(await t.git('-C', made.path, 'status', '--porcelain')).toBe('');
    // A crash right after the registration: branch and worktree exist, no file was written yet.
    await t.git('branch', 'orch/r/b', head);
    await t.git('worktree', 'add', '--quiet', '--no-checkout', join(t.root, '.worktrees', 'b'), 'orch/r/b');
    const again = await addWorktree(repo, {
      path: '.worktrees/b',
      branch: 'orch/r/b',
      commit: head,
      reuseBranch: true,
    });
    expect(again.created).toBe(false);
    expect(await readFile(join(again.path, 'README.md'), 'utf8')).toBe('# test\n');
    expect(await t.git('-C', again.path, 'status', '--porcelain')).toBe('');
  });

  it('8 parallel adds all succeed, each on its own branch at the commit', async () => {
    const { repo, head } = await fresh();
    const ids = Array.from({ length: 8 }, (_, i) => `t${i}`);
    const results = await Promise.all(
      ids.map((id) =>
        addWorktree(repo, {
          path: `.worktrees/${id}`,
          branch: `orch/r/${id}`,
          commit: head,
          lockReason: `orch r ${id}`,
        }),
      ),
    );
    expect(results.every((r) => r.created && r.head === head)).toBe(true);
    const wts = await listWorktrees(repo);
    expect(wts).toHaveLength(9);
    for (const id of ids) {
      const wt = wts.find((w) => w.branch === `orch/r/${id}`);
      expect(wt).toMatchObject({ locked: true, lockReason: `orch r ${id}`, prunable: false, head });
      expect(await readFile(join(wt!.path, 'README.md'), 'utf8')).toBe('# test\n');
    }
    expect(await repo.isClean(repo.root)).toBe(true);
  });

  it('raw parallel `git worktree add` failures are the races the retries recognise', async () => {
    // Without the mutex git may fail here (it does on some machines and not others); every failure
    // it produces must be one isGitRace() knows, or the retry would not cover it.
    const { repo, head } = await fresh();
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        execa('git', ['worktree', 'add', '-q', '-b', `raw${i}`, `.worktrees/raw${i}`, head], {
          cwd: repo.root,
          reject: false,
        }),
      ),
    );
    for (const r of runs.filter((x) => x.exitCode !== 0)) expect(isGitRace(r.stderr), r.stderr).toBe(true);
  });

  it('is idempotent and reuses a branch left at the commit', async () => {
    const { repo, head } = await fresh();
    const a = await addWorktree(repo, { path: '.worktrees/a', branch: 'orch/r/a', commit: head });
    const again = await addWorktree(repo, { path: '.worktrees/a', branch: 'orch/r/a', commit: head });
    expect(again).toMatchObject({ path: a.path, created: false, head });
    // A crash between branch creation and worktree add leaves the branch alone.
    await repo.createBranch('orch/r/b', head);
    const b = await addWorktree(repo, { path: '.worktrees/b', branch: 'orch/r/b', commit: head });
    expect(b.created).toBe(true);
  });

  it('refuses a branch that moved unless asked to reuse it, and keeps its commits', async () => {
    const { t, repo, head } = await fresh();
    const a = await addWorktree(repo, { path: '.worktrees/a', branch: 'orch/r/a', commit: head });
    await writeFile(join(a.path, 'work.txt'), 'work\n');
    await t.git('-C', a.path, 'add', 'work.txt');
    await t.git('-C', a.path, 'commit', '-q', '-m', 'work');
    const tip = await repo.revParse('orch/r/a');
    await removeWorktree(repo, a.path);
    await expect(
      addWorktree(repo, { path: '.worktrees/a', branch: 'orch/r/a', commit: head }),
    ).rejects.toMatchObject({
      code: 'ERR_ORCH_BRANCH_EXISTS',
    });
    const re = await addWorktree(repo, {
      path: '.worktrees/a',
      branch: 'orch/r/a',
      commit: head,
      reuseBranch: true,
    });
    expect(re.head).toBe(tip);
    expect(await readFile(join(re.path, 'work.txt'), 'utf8')).toBe('work\n');
  });

  it('repairs a registration whose directory is gone, even a locked one', async () => {
    const { repo, head } = await fresh();
    const a = await addWorktree(repo, {
      path: '.worktrees/a',
      branch: 'orch/r/a',
      commit: head,
      lockReason: 'orch',
    });
    await rm(a.path, { recursive: true, force: true });
    const again = await addWorktree(repo, {
      path: '.worktrees/a',
      branch: 'orch/r/a',
      commit: head,
      lockReason: 'orch',
    });
    expect(again.created).toBe(true);
    expect(await stat(join(again.path, 'README.md'))).toBeTruthy();
    expect((await listWorktrees(repo)).filter((w) => w.branch === 'orch/r/a')).toHaveLength(1);
  });

  it('repairs a directory without registration: debris removed, work moved aside', async () => {
    const { repo, head } = await fresh();
    // A half-made worktree: the directory and its .git link exist, git's admin entry does not.
    const a = join(repo.root, '.worktrees/a');
    await mkdir(a, { recursive: true });
    await writeFile(join(a, '.git'), `gitdir: ${join(repo.commonDir, 'worktrees', 'a')}\n`);
    const ra = await addWorktree(repo, { path: a, branch: 'orch/r/a', commit: head });
    expect(ra).toMatchObject({ created: true, head });
    expect(ra.movedAside).toBeUndefined();
    // A stray directory with files in it is kept under another name, never deleted.
    const b = join(repo.root, '.worktrees/b');
    await mkdir(b, { recursive: true });
    await writeFile(join(b, 'precious.txt'), 'keep me\n');
    const rb = await addWorktree(repo, { path: b, branch: 'orch/r/b', commit: head });
    expect(rb.movedAside).toBeDefined();
    expect(await readFile(join(rb.movedAside!, 'precious.txt'), 'utf8')).toBe('keep me\n');
    expect(await repo.isClean(rb.path)).toBe(true);
  });

  it('repairs a worktree whose admin entry was half written', async () => {
    const { repo, head } = await fresh();
    const a = await addWorktree(repo, { path: '.worktrees/a', branch: 'orch/r/a', commit: head });
    // The window the parallel-add race leaves: the admin dir exists but its commondir file is missing.
    await rm(join(repo.commonDir, 'worktrees', 'a', 'commondir'));
    const again = await addWorktree(repo, { path: '.worktrees/a', branch: 'orch/r/a', commit: head });
    expect(again.created).toBe(true);
    expect((await repo.git(['status', '--porcelain'], { cwd: a.path })).stdout).toBe('');
  });

  it('refuses paths that are the root or inside .git, and a branch checked out elsewhere', async () => {
    const { repo, head } = await fresh();
    await expect(addWorktree(repo, { path: '.', branch: 'x', commit: head })).rejects.toMatchObject({
      code: 'ERR_ORCH_WORKTREE_PATH',
    });
    await expect(addWorktree(repo, { path: '.git/wt', branch: 'x', commit: head })).rejects.toMatchObject({
      code: 'ERR_ORCH_WORKTREE_PATH',
    });
    await expect(
      addWorktree(repo, { path: '.worktrees/m', branch: 'main', commit: head, reuseBranch: true }),
    ).rejects.toMatchObject({
      code: 'ERR_ORCH_BRANCH_CHECKED_OUT',
    });
  });
});

describe('removeWorktree and pruneWorktrees', () => {
  it('removes clean, dirty (with force) and locked worktrees, keeping branches', async () => {
    const { repo, head } = await fresh();
    const a = await addWorktree(repo, {
      path: '.worktrees/a',
      branch: 'orch/r/a',
      commit: head,
      lockReason: 'orch',
    });
    expect(await removeWorktree(repo, a.path)).toBe(true);
    expect(await removeWorktree(repo, a.path)).toBe(false);
    const b = await addWorktree(repo, { path: '.worktrees/b', branch: 'orch/r/b', commit: head });
    await writeFile(join(b.path, 'dirty.txt'), 'x');
    await expect(removeWorktree(repo, b.path)).rejects.toMatchObject({ code: 'ERR_ORCH_WORKTREE_REMOVE' });
    expect(await removeWorktree(repo, b.path, { force: true })).toBe(true);
    expect((await listWorktrees(repo)).map((w) => w.branch)).toEqual(['main']);
    expect(await repo.branchExists('orch/r/a')).toBe(true);
    expect(await repo.branchExists('orch/r/b')).toBe(true);
  });

  it('prunes registrations of deleted directories', async () => {
    const { repo, head } = await fresh();
    const a = await addWorktree(repo, { path: '.worktrees/a', branch: 'orch/r/a', commit: head });
    await rm(a.path, { recursive: true, force: true });
    expect((await listWorktrees(repo)).find((w) => w.branch === 'orch/r/a')?.prunable).toBe(true);
    await pruneWorktrees(repo);
    expect((await listWorktrees(repo)).map((w) => w.branch)).toEqual(['main']);
  });
});

describe('withRepoLock', () => {
  it('serializes callers in this process and is re-entrant', async () => {
    const { repo } = await fresh();
    const log: string[] = [];
    const job = (id: string) =>
      withRepoLock(repo, async () => {
        log.push(`start ${id}`);
        await withRepoLock(repo, async () => undefined); // nested: no deadlock
        await new Promise((r) => setTimeout(r, 5));
        log.push(`end ${id}`);
      });
    await Promise.all([job('a'), job('b'), job('c')]);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    await expect(stat(join(repo.commonDir, LOCK_FILE))).rejects.toThrow();
  });

  it('waits for a live process holding the lock file, and breaks a dead one', async () => {
    const { repo } = await fresh();
    const file = join(repo.commonDir, LOCK_FILE);
    // Another process takes the lock the same way orch does, then releases it when told to.
    const holder = execa(
      'node',
      [
        '-e',
        `const fs=require('fs');fs.writeFileSync(process.argv[1],process.pid+'\\n',{flag:'wx'});console.log('held');` +
          `process.stdin.once('data',()=>{fs.unlinkSync(process.argv[1]);process.exit(0)})`,
        file,
      ],
      { stdin: 'pipe' },
    );
    await new Promise<void>((res) => holder.stdout!.once('data', () => res()));
    let entered = false;
    const waiting = withRepoLock(repo, async () => {
      entered = true;
      return (JSON.parse(await readFile(file, 'utf8')) as { pid: number }).pid;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(entered).toBe(false);
    holder.stdin!.write('go\n');
    await holder;
    expect(await waiting).toBe(process.pid);

    // A lock left by a process that died is broken.
    const dead = await execa('node', ['-e', 'console.log(process.pid)']);
    await writeFile(file, `${dead.stdout.trim()}\n`);
    await expect(withRepoLock(repo, async () => 'ok')).resolves.toBe('ok');
    await expect(stat(file)).rejects.toThrow();
  });
});

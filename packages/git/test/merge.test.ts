import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoTemplate, type TempRepo } from '@orch/test-utils';
import { Repo } from '../src/repo.js';
import { addWorktree } from '../src/worktree.js';
import { fastForwardCheckout, mergeIntoRef, mergeIntoWorktree } from '../src/merge.js';
import { archiveRef, casUpdateRef } from '../src/refs.js';

let repos: TempRepo[] = [];
afterEach(async () => {
  await Promise.all(repos.map((r) => r.cleanup()));
  repos = [];
});

const STAGING = 'refs/heads/orch/r1/staging';

/** A repository with a staging branch and two task branches, each one commit on top of main. */
const template = repoTemplate(
  async (t) => {
    const repo = await Repo.open(t.root);
    await repo.ensureExcluded(['.worktrees/']);
    const base = await repo.revParse('HEAD');
    await repo.createBranch('orch/r1/staging', base);
    for (const [task, file, content] of [
      ['a', 'a.txt', 'a\n'],
      ['b', 'shared.txt', 'one\nB\nthree\n'],
      ['c', 'shared.txt', 'one\nC\nthree\n'],
    ] as const) {
      await t.git('checkout', '-q', '-b', `orch/r1/${task}`, base);
      await t.write(file, content);
      await t.commitAll(`task ${task}`);
    }
    await t.git('checkout', '-q', 'main');
  },
  { 'shared.txt': 'one\ntwo\nthree\n', 'README.md': '# r\n' },
);

async function setup(): Promise<{ t: TempRepo; repo: Repo; base: string }> {
  const t = await template();
  repos.push(t);
  const repo = await Repo.open(t.root);
  return { t, repo, base: await repo.revParse('HEAD') };
}

async function snapshot(t: TempRepo, repo: Repo): Promise<unknown> {
  return {
    head: await repo.revParse('HEAD'),
    index: await readFile(join(repo.commonDir, 'index')),
    status: await repo.statusPorcelain(t.root),
    shared: await readFile(join(t.root, 'shared.txt'), 'utf8'),
  };
}

describe('mergeIntoRef', () => {
  it('merges cleanly without touching any checkout, then reports already-merged', async () => {
    const { t, repo, base } = await setup();
    await t.write('README.md', 'user is editing\n'); // a dirty user checkout
    const before = await snapshot(t, repo);
    const r = await mergeIntoRef(repo, { target: STAGING, source: 'orch/r1/a', message: 'Merge task a' });
    expect(r).toMatchObject({ status: 'merged', previous: base });
    if (r.status !== 'merged') throw new Error('unreachable');
    expect(await repo.revParse(STAGING)).toBe(r.commit);
    const parents = (await t.git('rev-list', '--parents', '-n', '1', r.commit)).trim().split(' ');
    expect(parents.slice(1)).toEqual([base, await repo.revParse('orch/r1/a')]);
    expect(await repo.readFileAt(r.commit, 'a.txt')).toBe('a\n');
    expect((await t.git('log', '-1', '--format=%s', r.commit)).trim()).toBe('Merge task a');
    expect(await snapshot(t, repo)).toEqual(before);
    expect(await mergeIntoRef(repo, { target: STAGING, source: 'orch/r1/a', message: 'again' })).toEqual({
      status: 'already',
      commit: r.commit,
    });
    expect(await repo.revParse(STAGING)).toBe(r.commit);
  });

  it('reports conflicts with the files and leaves the target where it was', async () => {
    const { t, repo } = await setup();
    const b = await mergeIntoRef(repo, { target: STAGING, source: 'orch/r1/b', message: 'Merge b' });
    expect(b.status).toBe('merged');
    const tip = await repo.revParse(STAGING);
    const before = await snapshot(t, repo);
    const c = await mergeIntoRef(repo, { target: STAGING, source: 'orch/r1/c', message: 'Merge c' });
    expect(c.status).toBe('conflict');
    if (c.status !== 'conflict') throw new Error('unreachable');
    expect(c.files).toEqual(['shared.txt']);
    expect(c.messages.join('\n')).toMatch(/CONFLICT \(content\)/);
    expect(await repo.revParse(STAGING)).toBe(tip);
    expect(await snapshot(t, repo)).toEqual(before);
  });

  it('fails with ERR_ORCH_REF_MOVED when the target is not where the caller expected', async () => {
    const { repo, base } = await setup();
    await mergeIntoRef(repo, { target: STAGING, source: 'orch/r1/a', message: 'Merge a' });
    const moved = await repo.revParse(STAGING);
    await expect(
      mergeIntoRef(repo, { target: STAGING, source: 'orch/r1/b', message: 'Merge b', expectedOld: base }),
    ).rejects.toMatchObject({ code: 'ERR_ORCH_REF_MOVED', details: { expected: base, actual: moved } });
    expect(await repo.revParse(STAGING)).toBe(moved);
  });

  it('retries when the target moves between its read and its update (parallel merges)', async () => {
    const { t, repo } = await setup();
    // Parallel callers race on the same ref; the CAS loop makes every clean merge land exactly once.
    for (const task of ['d', 'e', 'f', 'g']) {
      await t.git('branch', `orch/r1/${task}`, 'main');
      await t.git('checkout', '-q', `orch/r1/${task}`);
      await t.write(`${task}.txt`, task);
      await t.commitAll(task);
    }
    await t.git('checkout', '-q', 'main');
    const results = await Promise.all(
      ['a', 'd', 'e', 'f', 'g'].map((task) =>
        mergeIntoRef(repo, {
          target: STAGING,
          source: `orch/r1/${task}`,
          message: `Merge ${task}`,
          attempts: 10,
        }),
      ),
    );
    expect(results.every((r) => r.status === 'merged')).toBe(true);
    const tip = await repo.revParse(STAGING);
    for (const task of ['a', 'd', 'e', 'f', 'g'])
      expect(await repo.isAncestor(`orch/r1/${task}`, tip)).toBe(true);
    const merges = (await t.git('rev-list', '--merges', '--first-parent', 'main..' + tip)).trim().split('\n');
    expect(merges).toHaveLength(5);
  });

  it('never moves a branch that is checked out in a worktree', async () => {
    const { t, repo } = await setup();
    const main = await repo.revParse('main');
    await expect(
      mergeIntoRef(repo, { target: 'refs/heads/main', source: 'orch/r1/a', message: 'x' }),
    ).rejects.toMatchObject({ code: 'ERR_ORCH_REF_CHECKED_OUT' });
    const wt = await addWorktree(repo, { path: '.worktrees/b', branch: 'orch/r1/b', commit: 'orch/r1/b' });
    const tipB = await repo.revParse('orch/r1/b');
    await expect(
      mergeIntoRef(repo, { target: 'refs/heads/orch/r1/b', source: 'orch/r1/a', message: 'x' }),
    ).rejects.toMatchObject({ code: 'ERR_ORCH_REF_CHECKED_OUT', details: { worktree: wt.path } });
    await expect(casUpdateRef(repo, 'refs/heads/main', 'orch/r1/a', main)).rejects.toMatchObject({
      code: 'ERR_ORCH_REF_CHECKED_OUT',
    });
    expect(await repo.revParse('main')).toBe(main);
    expect(await repo.revParse('orch/r1/b')).toBe(tipB);
    expect(await repo.isClean(t.root)).toBe(true);
    expect(await repo.isClean(wt.path)).toBe(true);
  });
});

describe('casUpdateRef and archiveRef', () => {
  it('moves a ref only from the expected value, and creates only absent refs', async () => {
    const { repo, base } = await setup();
    const a = await repo.revParse('orch/r1/a');
    await casUpdateRef(repo, STAGING, a, base);
    expect(await repo.revParse(STAGING)).toBe(a);
    await expect(casUpdateRef(repo, STAGING, base, base)).rejects.toMatchObject({
      code: 'ERR_ORCH_REF_MOVED',
      details: { expected: base, actual: a },
    });
    expect(await repo.revParse(STAGING)).toBe(a);
    await casUpdateRef(repo, 'refs/orch/r1/base', base, null);
    await expect(casUpdateRef(repo, 'refs/orch/r1/base', a, null)).rejects.toMatchObject({
      code: 'ERR_ORCH_REF_MOVED',
    });
    await expect(casUpdateRef(repo, 'main', a, base)).rejects.toMatchObject({ code: 'ERR_ORCH_INVALID_REF' });
  });

  it('archives a branch under a free name and never deletes anything', async () => {
    const { repo } = await setup();
    const a = await repo.revParse('orch/r1/a');
    const b = await repo.revParse('orch/r1/b');
    expect(await archiveRef(repo, 'orch/r1/a', 'orch/archive/a')).toEqual({
      ref: 'refs/heads/orch/archive/a',
      commit: a,
    });
    expect(await archiveRef(repo, 'orch/r1/a', 'orch/archive/a')).toEqual({
      ref: 'refs/heads/orch/archive/a',
      commit: a,
    });
    expect(await archiveRef(repo, 'orch/r1/b', 'orch/archive/a')).toEqual({
      ref: 'refs/heads/orch/archive/a-2',
      commit: b,
    });
    expect(await archiveRef(repo, 'orch/r1/c', 'refs/orch/archive/c')).toMatchObject({
      ref: 'refs/orch/archive/c',
    });
    expect(await archiveRef(repo, 'nope', 'x')).toBeNull();
    expect(await repo.revParse('orch/r1/a')).toBe(a);
    expect(await repo.revParse('orch/archive/a')).toBe(a);
  });
});

describe('mergeIntoWorktree and fastForwardCheckout', () => {
  it('merges staging into a task worktree, and leaves or aborts conflicts', async () => {
    const { t, repo } = await setup();
    await mergeIntoRef(repo, { target: STAGING, source: 'orch/r1/b', message: 'Merge b' });
    await mergeIntoRef(repo, { target: STAGING, source: 'orch/r1/a', message: 'Merge a' });
    const wa = await addWorktree(repo, {
      path: '.worktrees/a',
      branch: 'orch/r1/a',
      commit: 'orch/r1/a',
      reuseBranch: true,
    });
    const ok = await mergeIntoWorktree(wa.path, STAGING, 'Sync staging');
    expect(ok.ok).toBe(true);
    expect(await readFile(join(wa.path, 'shared.txt'), 'utf8')).toBe('one\nB\nthree\n');

    const wc = await addWorktree(repo, {
      path: '.worktrees/c',
      branch: 'orch/r1/c',
      commit: 'orch/r1/c',
      reuseBranch: true,
    });
    const tipC = await repo.revParse('orch/r1/c');
    const kept = await mergeIntoWorktree(wc.path, STAGING, 'Sync staging');
    expect(kept).toEqual({ ok: false, conflicts: ['shared.txt'] });
    expect(await readFile(join(wc.path, 'shared.txt'), 'utf8')).toMatch(
      /<<<<<<<[\s\S]*=======[\s\S]*>>>>>>>/,
    );
    await t.git('-C', wc.path, 'merge', '--abort');
    const aborted = await mergeIntoWorktree(wc.path, STAGING, 'Sync staging', { abort: true });
    expect(aborted).toEqual({ ok: false, conflicts: ['shared.txt'] });
    expect(await repo.isClean(wc.path)).toBe(true);
    expect(await repo.revParse('orch/r1/c')).toBe(tipC);
    expect(await repo.isClean(t.root)).toBe(true);
  });

  it('fast-forwards a checkout, and refuses when that is not a fast-forward', async () => {
    const { t, repo } = await setup();
    const m = await mergeIntoRef(repo, { target: STAGING, source: 'orch/r1/a', message: 'Merge a' });
    if (m.status !== 'merged') throw new Error('unreachable');
    expect(await fastForwardCheckout(t.root, m.commit)).toBe(m.commit);
    expect(await repo.revParse('main')).toBe(m.commit);
    expect(await readFile(join(t.root, 'a.txt'), 'utf8')).toBe('a\n');
    await expect(fastForwardCheckout(t.root, 'orch/r1/b')).rejects.toMatchObject({
      code: 'ERR_ORCH_FF_FAILED',
    });
    expect(await repo.revParse('main')).toBe(m.commit);
    expect(await repo.isClean(t.root)).toBe(true);
  });
});

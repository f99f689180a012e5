import { afterEach, describe, expect, it } from 'vitest';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { Repo } from '../src/repo.js';
import { changedPaths as changedPathsWithModes } from '../src/diff.js';

/** The changes without their modes and objects (the symlink tests below look at those). */
async function changedPaths(...args: Parameters<typeof changedPathsWithModes>) {
  return (await changedPathsWithModes(...args)).map(({ mode: _m, object: _o, ...c }) => c);
}

let repos: TempRepo[] = [];
afterEach(async () => {
  await Promise.all(repos.map((r) => r.cleanup()));
  repos = [];
});

const body = Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n') + '\n';

describe('changedPaths', () => {
  it('sees both sides of a rename out of bounds', async () => {
    const t = await tempRepo({ 'src/owned.ts': body, 'other/secret.ts': body + 'x\n' });
    repos.push(t);
    const repo = await Repo.open(t.root);
    const base = await repo.revParse('HEAD');
    await t.git('mv', 'other/secret.ts', 'src/moved.ts');
    const head = await t.commitAll('move');
    expect(await changedPaths(repo, base, head)).toEqual([
      { status: 'R', path: 'src/moved.ts', oldPath: 'other/secret.ts' },
    ]);
  });

  it('sees files of earlier commits, even ones a later commit deleted', async () => {
    const t = await tempRepo();
    repos.push(t);
    const repo = await Repo.open(t.root);
    const base = await repo.revParse('HEAD');
    await t.write('forbidden/.env', 'SECRET=1\n');
    await t.write('early.ts', 'a\n');
    await t.commitAll('one');
    await t.git('rm', '-q', 'forbidden/.env');
    await t.commitAll('two');
    await t.write('README.md', 'changed\n');
    const head = await t.commitAll('three');
    const got = await changedPaths(repo, base, head);
    expect(got).toEqual(
      expect.arrayContaining([
        { status: 'A', path: 'forbidden/.env' },
        { status: 'D', path: 'forbidden/.env' },
        { status: 'A', path: 'early.ts' },
        { status: 'M', path: 'README.md' },
      ]),
    );
    // Only the net view would miss the deleted file.
    const net = await changedPaths(repo, base, head, { perCommit: false });
    expect(net.map((c) => c.path).sort()).toEqual(['README.md', 'early.ts']);
  });

  it('keeps names with spaces, newlines, quotes and non-ASCII intact', async () => {
    const t = await tempRepo();
    repos.push(t);
    const repo = await Repo.open(t.root);
    const base = await repo.revParse('HEAD');
    const names = ['a b.txt', 'new\nline.txt', 'quote"d\'.txt', 'tab\there.txt', 'ünï.txt', '-dash.txt'];
    for (const n of names) await t.write(n, n);
    const head = await t.commitAll('odd names');
    const got = await changedPaths(repo, base, head);
    expect(got.map((c) => c.path).sort()).toEqual([...names].sort());
    expect(got.every((c) => c.status === 'A')).toBe(true);
  });

  it('reports type changes and deletions', async () => {
    const t = await tempRepo({ 'f.txt': 'x\n', 'gone.txt': 'y\n' });
    repos.push(t);
    const repo = await Repo.open(t.root);
    const base = await repo.revParse('HEAD');
    await t.git('rm', '-q', 'f.txt', 'gone.txt');
    await t.git('commit', '-q', '-m', 'rm');
    const { symlink } = await import('node:fs/promises');
    await symlink('target', `${t.root}/f.txt`);
    const head = await t.commitAll('link');
    const net = await changedPaths(repo, base, head, { perCommit: false });
    expect(net).toEqual(
      expect.arrayContaining([
        { status: 'T', path: 'f.txt' },
        { status: 'D', path: 'gone.txt' },
      ]),
    );
  });

  it('with the merge-base as base, leaves out what a merged-in branch brought', async () => {
    const t = await tempRepo();
    repos.push(t);
    const repo = await Repo.open(t.root);
    const base = await repo.revParse('HEAD');
    await t.git('checkout', '-q', '-b', 'task');
    await t.write('mine.ts', 'm\n');
    await t.commitAll('mine');
    await t.git('checkout', '-q', 'main');
    await t.write('theirs.ts', 't\n');
    await t.commitAll('theirs');
    await t.git('checkout', '-q', 'task');
    await t.git('merge', '-q', '--no-edit', 'main');
    const mb = await repo.mergeBase('main', 'task');
    expect(mb).not.toBe(base);
    const got = await changedPaths(repo, mb!, 'task');
    expect(got).toEqual([{ status: 'A', path: 'mine.ts' }]);
  });

  it('sees what only a merge commit added, even when a later merge removed it', async () => {
    const t = await tempRepo({ 'a.txt': 'a\n' });
    repos.push(t);
    const repo = await Repo.open(t.root);
    const base = await repo.revParse('HEAD');
    for (const [side, add] of [
      ['one', true],
      ['two', false],
    ] as const) {
      await t.git('checkout', '-q', '-b', side, 'main');
      await t.write(`${side}.txt`, `${side}\n`);
      await t.commitAll(side);
      await t.git('checkout', '-q', 'main');
      await t.git('merge', '-q', '--no-commit', '--no-ff', side);
      if (add) await t.write('.env', 'SECRET=1\n');
      else await t.git('rm', '-q', '.env');
      await t.git('add', '-A');
      await t.git('commit', '-q', '-m', `merge ${side}`);
    }
    const head = await repo.revParse('main');
    const all = await changedPaths(repo, base, head);
    expect(all).toEqual(
      expect.arrayContaining([
        { status: 'A', path: '.env' },
        { status: 'D', path: '.env' },
      ]),
    );
    // The net view sees neither: the file is gone again at the head.
    const net = await changedPaths(repo, base, head, { perCommit: false });
    expect(net.map((c) => c.path).sort()).toEqual(['one.txt', 'two.txt']);
  });

  it('gives the mode and blob of a symlink, in the net view and in an intermediate commit', async () => {
    const t = await tempRepo();
    repos.push(t);
    const repo = await Repo.open(t.root);
    const base = await repo.revParse('HEAD');
    const { symlink, rm } = await import('node:fs/promises');
    await symlink('/etc/passwd', `${t.root}/kept`);
    await symlink('../outside', `${t.root}/dropped`);
    await t.commitAll('links');
    await rm(`${t.root}/dropped`);
    const head = await t.commitAll('drop one');
    const links = (await changedPathsWithModes(repo, base, head)).filter((c) => c.mode === '120000');
    expect(links.map((c) => c.path).sort()).toEqual(['dropped', 'kept']);
    const kept = links.find((c) => c.path === 'kept')!;
    expect(await t.git('cat-file', 'blob', kept.object)).toBe('/etc/passwd');
    const net = (await changedPathsWithModes(repo, base, head, { perCommit: false })).filter(
      (c) => c.mode === '120000',
    );
    expect(net.map((c) => c.path)).toEqual(['kept']);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { Repo } from '../src/repo.js';

let repos: TempRepo[] = [];
afterEach(async () => {
  await Promise.all(repos.map((r) => r.cleanup()));
  repos = [];
});

describe('Repo: answers about object ids are kept, refs are read each time', () => {
  it('reads a branch again after it moves, and ancestry and merge-bases follow the commits asked about', async () => {
    const t = await tempRepo({ 'a.txt': 'a\n' });
    repos.push(t);
    const repo = await Repo.open(t.root);
    const first = await repo.revParse('HEAD^{commit}');
    expect(await repo.tryRevParse('refs/heads/main')).toBe(first);
    expect(await repo.revParse(`${first}^{commit}`)).toBe(first);

    await t.write('b.txt', 'b\n');
    const second = await t.commitAll('second');
    expect(await repo.tryRevParse('refs/heads/main')).toBe(second);
    expect(await repo.isAncestor(first, second)).toBe(true);
    expect(await repo.isAncestor(second, first)).toBe(false);
    // Asked twice, the same answers (the second time from what the first one learnt).
    expect(await repo.isAncestor(first, second)).toBe(true);
    expect(await repo.mergeBase(second, first)).toBe(first);
    expect(await repo.mergeBase(second, first)).toBe(first);
    expect(await repo.revParse(`${second}^{tree}`)).toBe(await t.git('rev-parse', 'HEAD^{tree}'));
  });

  it('does not keep "missing": a tree unknown at first is found once it exists', async () => {
    const t = await tempRepo({ 'a.txt': 'a\n' });
    const other = await tempRepo({ 'a.txt': 'a\n', 'later.txt': 'later\n' });
    repos.push(t, other);
    const repo = await Repo.open(t.root);
    // Trees are named by their content: the other repository already has the one t will make.
    const tree = await other.git('rev-parse', 'HEAD^{tree}');
    expect(await repo.tryRevParse(`${tree}^{tree}`)).toBeNull();
    await t.write('later.txt', 'later\n');
    await t.commitAll('later');
    expect(await repo.tryRevParse(`${tree}^{tree}`)).toBe(tree);
  });
});

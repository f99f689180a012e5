import { afterEach, describe, expect, it } from 'vitest';
import { shellPlanTree, tempRepo, writerTaskYaml, type TempRepo } from '../src/index.js';

let repo: TempRepo | undefined;
afterEach(async () => {
  await repo?.cleanup();
  repo = undefined;
});

describe('shellPlanTree', () => {
  it("applies the plan's shell tasks in dependency order at the base: the tree of their files on the base's", async () => {
    // b is listed first but needs a's file (its script fails without it): the order is the DAG's.
    const plan = `tasks:${writerTaskYaml('b', ['a'], { pause: 30 })}${writerTaskYaml('a', [])}\n`;
    repo = await tempRepo({ 'README.md': '# app\n', 'tasks.yaml': plan });
    const base = await repo.git('rev-parse', 'HEAD');
    const tree = await shellPlanTree(repo.root, base, plan);

    await repo.write('src/a.txt', 'a after nothing\n');
    await repo.write('src/b.txt', 'b after a\n');
    await repo.git('add', '-A');
    expect(tree).toBe(await repo.git('write-tree'));
    // The source repository is left as it was.
    expect(await repo.git('rev-parse', 'HEAD')).toBe(base);
  });

  it('refuses a task without a run script', async () => {
    const plan =
      'tasks:\n  - id: x\n    description: write src/x.txt\n    agent: claude\n    files_write: [src/x.txt]\n    verification:\n      - command: test -s src/x.txt\n        type: check\n';
    repo = await tempRepo({ 'tasks.yaml': plan });
    await expect(shellPlanTree(repo.root, await repo.git('rev-parse', 'HEAD'), plan)).rejects.toThrow(
      'task x is not a shell task',
    );
  });
});

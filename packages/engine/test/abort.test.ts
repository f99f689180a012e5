import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@orch/core';
import { Repo } from '@orch/git';
import { appendEvent, runPaths } from '@orch/store';
import { runStarted, tempRepo, type TempRepo } from '@orch/test-utils';
import { checkoutIntegration } from '../src/integrate/worktree.js';
import { abortRun } from '../src/run/abort.js';

describe('abort', () => {
  let repo: TempRepo;
  beforeEach(async () => {
    repo = await tempRepo();
  });
  afterEach(async () => {
    await repo.cleanup();
  });

  it('cleans up a run that was stopped before its first journal line', async () => {
    // What `orch run` makes before it writes run.started: the run folder with its plan copy, the
    // staging branch and orch's integration worktree.
    const run = '20261121-070000-dead';
    const dir = runPaths(repo.root, run).dir;
    await mkdir(dir, { recursive: true });
    await writeFile(runPaths(repo.root, run).plan, 'tasks: []\n');
    const head = await repo.git('rev-parse', 'HEAD');
    await repo.git('branch', `orch/${run}/staging`, head);
    const r = await Repo.open(repo.root);
    const integration = await checkoutIntegration(r, await loadConfig(repo.root), run, head);

    const res = await abortRun(repo.root, run);

    expect(res.branchesDeleted.map((b) => b.name)).toEqual([`orch/${run}/staging`]);
    expect(res.worktreesRemoved).toEqual([integration]);
    expect(existsSync(integration)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    expect(await repo.git('branch', '--format=%(refname:short)')).toBe('main');
  });

  async function startedRun(run: string, head: string): Promise<string> {
    const dir = runPaths(repo.root, run).dir;
    await mkdir(dir, { recursive: true });
    await appendEvent(
      dir,
      runStarted(['a', 'b'], { run, request: 'abort test', repoRoot: repo.root, baseCommit: head }),
    );
    return dir;
  }
  const commitOn = async (parent: string, message: string): Promise<string> =>
    repo.git('commit-tree', `${parent}^{tree}`, '-p', parent, '-m', message);

  it('keeps unmerged task commits and staging’s unpromoted work on archive branches, once each', async () => {
    const run = '20261121-080000-beef';
    const head = await repo.git('rev-parse', 'HEAD');
    await startedRun(run, head);
    const b1 = await commitOn(head, 'b: merged on staging');
    const a1 = await commitOn(head, 'a: never merged');
    await repo.git('branch', `orch/${run}/staging`, b1);
    await repo.git('branch', `orch/${run}/b`, b1);
    await repo.git('branch', `orch/${run}/a`, a1);

    const res = await abortRun(repo.root, run);

    expect(res.kept.map((k) => [k.branch, k.commit])).toEqual([
      [`orch/${run}/archive/staging-1`, b1],
      [`orch/${run}/archive/a-1`, a1],
    ]);
    expect(res.kept[1]?.restore).toBe(`git switch -c a-rescue orch/${run}/archive/a-1`);
    expect((await repo.git('branch', '--format=%(refname:short)')).split('\n').sort()).toEqual([
      'main',
      `orch/${run}/archive/a-1`,
      `orch/${run}/archive/staging-1`,
    ]);
    expect(await repo.git('rev-parse', 'main')).toBe(head);
  });

  it('refuses to abort a finished run and changes nothing', async () => {
    const run = '20261121-090000-f00d';
    const head = await repo.git('rev-parse', 'HEAD');
    const dir = await startedRun(run, head);
    await repo.git('branch', `orch/${run}/staging`, head);
    await appendEvent(dir, { type: 'run.finished', outcome: 'failed', reason: 'a failed' });
    await expect(abortRun(repo.root, run)).rejects.toMatchObject({
      code: 'ERR_ORCH_RUN_FINISHED',
      hint: expect.stringContaining(`orch state clean --run ${run}`),
    });
    expect(await repo.git('branch', '--format=%(refname:short)')).toContain(`orch/${run}/staging`);
  });
});

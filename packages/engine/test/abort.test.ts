import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@orch/core';
import { Repo } from '@orch/git';
import { runPaths } from '@orch/store';
import { tempRepo, type TempRepo } from '@orch/test-utils';
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
});

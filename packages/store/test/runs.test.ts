import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { orchPaths, runPaths } from '../src/paths.js';
import { findRepoRoot } from '../src/repo-root.js';
import {
  createRunDir,
  getCurrentRun,
  isRunId,
  listRuns,
  newRunId,
  resolveRun,
  setCurrentRun,
} from '../src/runs.js';
import { appendEvent } from '../src/journal.js';
import { startRun, tempDir } from './helpers.js';

let repo: TempRepo;
let root: string;
let worktree: string;
beforeAll(async () => {
  repo = await tempRepo();
  root = await realpath(repo.root);
  await repo.git('worktree', 'add', '-q', '-b', 'orch/r/t1', join(root, '.worktrees', 't1'));
  worktree = join(root, '.worktrees', 't1');
  await mkdir(join(worktree, 'deep', 'er'), { recursive: true });
});
afterAll(() => repo.cleanup());

describe('findRepoRoot', () => {
  it('finds the main root from the root, a subfolder and inside a linked worktree', async () => {
    expect(await findRepoRoot(root)).toBe(root);
    expect(await findRepoRoot(join(worktree, 'deep', 'er'))).toBe(root);
    expect(await findRepoRoot(worktree)).toBe(root);
  });

  it('fails with a hint outside git', async () => {
    const t = await tempDir();
    try {
      await expect(findRepoRoot(t.dir)).rejects.toMatchObject({
        code: 'ERR_ORCH_NOT_A_REPO',
        hint: expect.stringContaining('ORCH_ROOT'),
      });
    } finally {
      await t.cleanup();
    }
  });
});

describe('paths and run ids', () => {
  it('lays out the orch directory', () => {
    expect(orchPaths('/r')).toEqual({
      orchDir: '/r/.orchestrator',
      runsDir: '/r/.orchestrator/runs',
      currentFile: '/r/.orchestrator/current',
      contextDir: '/r/.orchestrator/context',
      locksDir: '/r/.orchestrator/locks',
    });
    expect(runPaths('/r', 'x')).toMatchObject({
      dir: '/r/.orchestrator/runs/x',
      events: '/r/.orchestrator/runs/x/events.jsonl',
      mailbox: '/r/.orchestrator/runs/x/mailbox',
      supervisorLock: '/r/.orchestrator/runs/x/supervisor.lock',
    });
  });

  it('makes sortable ids that are safe in branch names', () => {
    const a = newRunId(new Date('2026-11-21T05:30:00Z'));
    const b = newRunId(new Date('2026-11-21T05:30:01Z'));
    expect(a).toMatch(/^20261121-053000-[0-9a-f]{4}$/);
    expect(isRunId(a)).toBe(true);
    expect([b, a].sort()).toEqual([a, b]);
  });
});

describe('runs', () => {
  it('tracks the current run and lists runs newest first', async () => {
    expect(await getCurrentRun(root)).toBeUndefined();
    const first = await createRunDir(root, new Date('2026-01-01T00:00:00Z'));
    await startRun(runPaths(root, first).dir, ['t1'], first);
    const second = await createRunDir(root);
    await startRun(runPaths(root, second).dir, ['t1', 't2'], second);
    await appendEvent(runPaths(root, second).dir, { type: 'run.finished', outcome: 'succeeded' });
    await setCurrentRun(root, second);
    expect(await getCurrentRun(root)).toBe(second);
    const runs = await listRuns(root);
    expect(runs.map((r) => r.run)).toEqual([second, first]);
    expect(runs[0]).toMatchObject({ phase: 'succeeded', outcome: 'succeeded', request: 'test request' });
  });

  it('resolves the run from --run, ORCH_* variables, or the current run, from a worktree too', async () => {
    const current = (await getCurrentRun(root)) as string;
    expect(await resolveRun({ cwd: join(worktree, 'deep'), env: {} })).toEqual({
      repoRoot: root,
      run: current,
    });
    const other = (await listRuns(root)).map((r) => r.run).find((r) => r !== current) as string;
    expect(
      await resolveRun({ cwd: '/', env: { ORCH_ROOT: root, ORCH_RUN: other, ORCH_TASK: 't1' } }),
    ).toEqual({
      repoRoot: root,
      run: other,
      task: 't1',
    });
    expect((await resolveRun({ cwd: root, env: { ORCH_RUN: other }, run: current })).run).toBe(current);
  });

  it('says clearly when there is no run or the run does not exist', async () => {
    const fresh = await tempRepo();
    try {
      await expect(resolveRun({ cwd: fresh.root, env: {} })).rejects.toMatchObject({
        code: 'ERR_ORCH_NO_RUN',
      });
      await expect(resolveRun({ cwd: root, env: {}, run: '20200101-000000-abcd' })).rejects.toMatchObject({
        code: 'ERR_ORCH_RUN_NOT_FOUND',
      });
      await expect(resolveRun({ cwd: root, env: {}, run: '../x' })).rejects.toMatchObject({
        code: 'ERR_ORCH_INVALID_NAME',
      });
      await writeFile(join(fresh.root, 'x'), '');
      await expect(resolveRun({ cwd: '/', env: { ORCH_ROOT: join(fresh.root, 'x') } })).rejects.toMatchObject(
        {
          code: 'ERR_ORCH_NOT_A_REPO',
        },
      );
    } finally {
      await fresh.cleanup();
    }
  });
});

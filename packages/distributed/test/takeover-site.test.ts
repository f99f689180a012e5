/**
 * What a takeover decides and rebuilds before it continues a distributed run's supervisor: where it
 * continues, the run's files from the store, the clone it works in, the run's branches from the
 * remote (the truth after a crash), and promotion on the remote (a fast-forward with a lease).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Config, type RunEvent } from '@orch/core';
import { gitRepository } from '@orch/engine';
import { Repo } from '@orch/git';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { remoteRepository, syncRunBranches, type RemoteOptions } from '../src/remote.js';
import { chooseResumeSite, ensureWorkdirClone, rebuildRunFiles } from '../src/workdir.js';

const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await promisify(execFile)('git', args, { cwd })).stdout.trim();

type Started = Extract<RunEvent, { type: 'run.started' }>;

const started = (over: Partial<Started> = {}): Started =>
  ({
    type: 'run.started',
    run: 'r1',
    request: '',
    repoRoot: '/elsewhere/app',
    planPath: 'tasks.yaml',
    base: 'main',
    baseCommit: 'a'.repeat(40),
    staging: 'orch/r1/staging',
    stagingCommit: 'a'.repeat(40),
    envHash: 'e',
    maxWorkers: 2,
    detached: false,
    noPromote: false,
    tasks: [],
    config: Config.parse({ orchestration: { max_parallel_workers: 7 } }) as Record<string, unknown>,
    ...over,
  }) as Started;

describe('where a takeover continues', () => {
  it('in the checkout that holds the run folder, unless a work directory is named', () => {
    expect(chooseResumeSite({ run: 'r1', checkoutWithRun: '/repo' })).toEqual({
      kind: 'checkout',
      repoRoot: '/repo',
    });
    expect(
      chooseResumeSite({ run: 'r1', checkoutWithRun: '/repo', workdir: '/w', remote: 'ssh://x' }),
    ).toEqual({
      kind: 'workdir',
      dir: '/w',
      remote: 'ssh://x',
    });
    expect(chooseResumeSite({ run: 'r1', workdir: '/w', remote: 'ssh://x' }).kind).toBe('workdir');
  });

  it('elsewhere it needs both --workdir and --remote, and says which is missing', () => {
    expect(() => chooseResumeSite({ run: 'r1', remote: 'ssh://x' })).toThrow(/--workdir DIR missing/);
    expect(() => chooseResumeSite({ run: 'r1', workdir: '/w' })).toThrow(/--remote GIT_URL missing/);
    expect(() => chooseResumeSite({ run: 'r1' })).toThrow(/--workdir DIR and --remote GIT_URL missing/);
    try {
      chooseResumeSite({ run: 'r1' });
    } catch (e) {
      expect(e).toMatchObject({ code: 'ERR_ORCH_USAGE', exitCode: 2 });
    }
  });
});

describe("the run's files rebuilt from the store", () => {
  it('the frozen plan, the key (owner-only) and the configuration run.started recorded', () => {
    const key = Buffer.alloc(32, 7);
    const r = rebuildRunFiles('r1', { planText: 'tasks: []\n', started: started(), key });
    expect(r.config.orchestration.max_parallel_workers).toBe(7);
    expect(r.files).toEqual([
      { path: '.orchestrator/runs/r1/plan.yaml', content: 'tasks: []\n', mode: 0o644 },
      { path: '.orchestrator/runs/r1/journal.key', content: `${'07'.repeat(32)}\n`, mode: 0o600 },
    ]);
  });

  it('refuses when the store lacks the plan, or the run started before its configuration was recorded', () => {
    const key = Buffer.alloc(32, 7);
    expect(() => rebuildRunFiles('r1', { planText: undefined, started: started(), key })).toThrow(
      /frozen plan/,
    );
    const old = started();
    delete (old as { config?: unknown }).config;
    expect(() => rebuildRunFiles('r1', { planText: 'tasks: []\n', started: old, key })).toThrow(
      /configuration/,
    );
    expect(() => rebuildRunFiles('r1', { planText: 'tasks: []\n', started: undefined, key })).toThrow(
      /run\.started/,
    );
  });
});

describe('the work directory and the remote', () => {
  const run = 'r1';
  const staging = `refs/heads/orch/${run}/staging`;
  let repo: TempRepo;
  let dir: string;
  let bare: string;
  let url: string;
  let base: string;

  beforeEach(async () => {
    repo = await tempRepo({ 'README.md': '# app\n' });
    dir = await mkdtemp(join(tmpdir(), 'orch-takeover-site-'));
    bare = join(dir, 'remote.git');
    await git(dir, 'clone', '-q', '--bare', repo.root, bare);
    url = `file://${bare}`;
    base = await repo.git('rev-parse', 'HEAD');
  });

  afterEach(async () => {
    await repo.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('clones the remote with no branch checked out, reuses that clone, and refuses any other folder', async () => {
    const wd = join(dir, 'wd');
    const root = await ensureWorkdirClone(wd, url);
    expect(await git(root, 'rev-parse', 'HEAD')).toBe(base);
    expect(await git(root, 'symbolic-ref', '-q', 'HEAD').catch(() => 'detached')).toBe('detached');
    expect(await ensureWorkdirClone(wd, url)).toBe(root);
    // Nothing half-made beside it.
    expect((await readdir(dir)).sort()).toEqual(['remote.git', 'wd']);

    const other = join(dir, 'other');
    await mkdir(other);
    await writeFile(join(other, 'notes.txt'), 'mine\n');
    await expect(ensureWorkdirClone(other, url)).rejects.toMatchObject({ code: 'ERR_ORCH_USAGE' });
    await expect(ensureWorkdirClone(repo.root, url)).rejects.toMatchObject({ code: 'ERR_ORCH_USAGE' });
    await expect(
      ensureWorkdirClone(join(dir, 'bad'), `file://${join(dir, 'none.git')}`),
    ).rejects.toMatchObject({
      code: 'ERR_ORCH_REMOTE',
    });
    expect(existsSync(join(dir, 'bad'))).toBe(false);
    expect((await readdir(dir)).sort()).toEqual(['other', 'remote.git', 'wd']);
  });

  it("sets staging to the remote's, makes the task branches it lacks, keeps the ones it has", async () => {
    const o: RemoteOptions = { repoRoot: repo.root, url, run };
    const moved = await repo.git('commit-tree', '-p', base, '-m', 'merge a', `${base}^{tree}`);
    await git(repo.root, 'push', '-q', url, `${moved}:${staging}`, `${moved}:refs/heads/orch/${run}/a/work`);
    await git(repo.root, 'push', '-q', url, `${base}:refs/heads/orch/${run}/b/work`);
    // Here: staging ahead of the remote (a move never published), b's branch at its own work.
    const unpublished = await repo.git('commit-tree', '-p', base, '-m', 'lost', `${base}^{tree}`);
    await repo.git('update-ref', staging, unpublished);
    const mine = await repo.git('commit-tree', '-p', base, '-m', 'b here', `${base}^{tree}`);
    await repo.git('update-ref', `refs/heads/orch/${run}/b/work`, mine);

    const r = await syncRunBranches(o, ['a', 'b', 'c']);
    expect(r).toEqual({ staging: moved, created: ['a'] });
    expect(await repo.git('rev-parse', staging)).toBe(moved);
    expect(await repo.git('rev-parse', `refs/heads/orch/${run}/a/work`)).toBe(moved);
    expect(await repo.git('rev-parse', `refs/heads/orch/${run}/b/work`)).toBe(mine);

    await expect(syncRunBranches({ ...o, run: 'r2' }, ['a'])).rejects.toMatchObject({
      code: 'ERR_ORCH_REMOTE',
    });
  });

  it('promotes away from the checkout by pushing the base with a lease, never by force', async () => {
    const o: RemoteOptions = { repoRoot: repo.root, url, run };
    const r = remoteRepository(gitRepository(await Repo.open(repo.root)), o, { promoteBase: 'main' });
    const next = await repo.git('commit-tree', '-p', base, '-m', 'staging', `${base}^{tree}`);
    await r.updateRef('refs/heads/main', next, base);
    expect(await git(bare, 'rev-parse', 'refs/heads/main')).toBe(next);

    // The remote's base moved since the tip promotion checked: refused there, nothing forced.
    const foreign = await repo.git('commit-tree', '-p', next, '-m', 'pushed by someone', `${base}^{tree}`);
    await git(repo.root, 'push', '-q', url, `${foreign}:refs/heads/main`);
    const later = await repo.git('commit-tree', '-p', next, '-m', 'later', `${base}^{tree}`);
    await expect(r.updateRef('refs/heads/main', later, next)).rejects.toMatchObject({
      code: 'ERR_ORCH_REMOTE',
    });
    expect(await git(bare, 'rev-parse', 'refs/heads/main')).toBe(foreign);
  });
});

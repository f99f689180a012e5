import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { Config, applyEvent, RunEvent, type RunEventInput, type RunState } from '@orch/core';
import { Repo, listWorktrees, retryRaces } from '@orch/git';
import { MemoryRunLog, runStarted, tempRepo, type TempRepo } from '@orch/test-utils';
import { taskBranch, worktreePath } from '../src/run/names.js';
import { poolWorktrees, upcomingWorktrees } from '../src/worker/pool.js';
import { NODE_MODULES_MARKER } from '../src/worker/install.js';
import { GitWorkspaces } from '../src/worker/workspaces.js';

const config = Config.parse({});
const RUN = 'r1';

let repos: TempRepo[] = [];
afterEach(async () => {
  for (const r of repos) await r.cleanup();
  repos = [];
});

/** A repository of a few files, a run of `a`, `b` (after a) and `c` (after b), and its workspaces. */
async function setup(maxWorkers = 2, extra: Record<string, string> = {}) {
  const files: Record<string, string> = { '.gitignore': '.worktrees/\nnode_modules/\n', ...extra };
  for (let i = 0; i < 20; i++) files[`src/f${i}.txt`] = `file ${i}\n`;
  const repo = await tempRepo(files);
  repos.push(repo);
  const head = await repo.git('rev-parse', 'HEAD');
  const journal = new MemoryRunLog();
  await journal.append(
    runStarted(
      [
        { id: 'a', dependsOn: [], agent: 'shell', description: '' },
        { id: 'b', dependsOn: ['a'], agent: 'shell', description: '' },
        { id: 'c', dependsOn: ['b'], agent: 'shell', description: '' },
      ],
      { run: RUN, baseCommit: head, stagingCommit: head, repoRoot: repo.root, maxWorkers },
    ),
  );
  await journal.append({ type: 'run.phase', phase: 'running' });
  const git = await Repo.open(repo.root);
  const ws = new GitWorkspaces({
    repo: git,
    repoRoot: repo.root,
    config,
    run: RUN,
    journal,
    poolSize: maxWorkers,
  });
  return { repo, git, head, journal, ws };
}

const poolPrefix = (root: string): string => join(root, '.worktrees', `_pool-${RUN}-`);

/** The run's spares whose files are written (their index exists): path and checked-out commit. */
async function spares(git: Repo, root: string): Promise<{ path: string; head: string }[]> {
  const out: { path: string; head: string }[] = [];
  for (const w of await retryRaces(() => listWorktrees(git))) {
    if (!w.path.startsWith(poolPrefix(root))) continue;
    const index = await execa('git', ['rev-parse', '--git-path', 'index'], { cwd: w.path, reject: false });
    if (index.exitCode === 0 && existsSync(resolve(w.path, index.stdout.trim())))
      out.push({ path: w.path, head: w.head });
  }
  return out;
}

/** Waits for a condition the pool reaches in the background (not a timing assertion). */
async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

const evidence = { source: 'supervisor' as const, at: 'now' };

describe('upcomingWorktrees', () => {
  const state = (events: RunEventInput[]): RunState => {
    let s: RunState | undefined;
    for (const e of events) s = applyEvent(s, RunEvent.parse({ ts: new Date(0).toISOString(), ...e }));
    return s as RunState;
  };
  const plan = runStarted([
    { id: 'a', dependsOn: [], agent: 'shell', description: '' },
    { id: 'b', dependsOn: ['a'], agent: 'shell', description: '' },
    { id: 'c', dependsOn: ['a', 'd'], agent: 'shell', description: '' },
    { id: 'd', dependsOn: [], agent: 'shell', description: '' },
  ]);

  it('counts ready tasks without a worktree and pending ones whose dependencies all land', () => {
    // Tasks without dependencies count once they are ready.
    expect(upcomingWorktrees(state([plan]))).toBe(0);
    expect(upcomingWorktrees(state([plan, { type: 'task.ready', task: 'a' }]))).toBe(1);
    const landing: RunEventInput[] = [
      plan,
      { type: 'task.ready', task: 'a' },
      { type: 'task.worktree', task: 'a', path: '/w/a', branch: 'x', baseCommit: 'c' },
      { type: 'task.verifying', task: 'a' },
    ];
    // b waits on a alone (verifying): soon; c waits on d too (pending): not yet.
    expect(upcomingWorktrees(state(landing))).toBe(1);
    expect(upcomingWorktrees(state([...landing, { type: 'task.verifying', task: 'd' }]))).toBe(2);
  });
});

describe('GitWorkspaces: spare worktrees made ahead of need', () => {
  it('makes a spare at the verified tip while a dependency verifies; the dependent task takes it with a branch switch', async () => {
    const { repo, git, head, journal, ws } = await setup();
    const a = await ws.ensure({ task: 'a' });
    expect(a).toBe(worktreePath(repo.root, config, 'a'));
    // Nothing is due yet: b waits for a, which is running.
    expect(await spares(git, repo.root)).toEqual([]);
    const branchesBefore = await repo.git('branch', '--list', 'orch/*');

    await journal.append({ type: 'task.verifying', task: 'a' });
    await until('a spare at the tip', async () =>
      (await spares(git, repo.root)).some((s) => s.head === head),
    );
    const [spare] = await spares(git, repo.root);
    // A spare is detached: it makes no branch.
    expect(await repo.git('branch', '--list', 'orch/*')).toBe(branchesBefore);
    const inode = (await stat(join(spare!.path, 'src/f3.txt'))).ino;

    await journal.append({ type: 'task.merged', task: 'a', commit: head, stagingBefore: head, evidence });
    await journal.append({ type: 'task.ready', task: 'b' });
    const b = await ws.ensure({ task: 'b' });
    expect(b).toBe(worktreePath(repo.root, config, 'b'));
    // The very files of the spare, moved into place, on the task's branch at the tip.
    expect((await stat(join(b, 'src/f3.txt'))).ino).toBe(inode);
    expect(await repo.git('-C', b, 'symbolic-ref', 'HEAD')).toBe(`refs/heads/${taskBranch(RUN, 'b')}`);
    expect(await repo.git('-C', b, 'rev-parse', 'HEAD')).toBe(head);
    expect(await repo.git('-C', b, 'status', '--porcelain')).toBe('');
    expect(journal.state?.tasks.b?.worktree).toBe(b);
    expect(existsSync(spare!.path)).toBe(false);
    await ws.drain();
  });

  it('re-points spares when staging moves (speculatively, before its check passes), yet a task starts at the verified tip', async () => {
    const { repo, git, head, journal, ws } = await setup();
    await ws.ensure({ task: 'a' });
    await journal.append({ type: 'task.verifying', task: 'a' });
    await until('a spare at the tip', async () =>
      (await spares(git, repo.root)).some((s) => s.head === head),
    );

    // a's change lands on staging; its incremental check still runs: one file added, one removed.
    await repo.write('src/new.txt', 'new\n');
    await repo.git('rm', '-q', 'src/f3.txt');
    const next = await repo.commitAll('staging');
    await journal.append({ type: 'staging.moved', from: head, to: next, reason: 'a merged' });
    await until('the spare follows the tip', async () =>
      (await spares(git, repo.root)).some((s) => s.head === next),
    );
    const [spare] = await spares(git, repo.root);
    expect(await repo.git('-C', spare!.path, 'status', '--porcelain')).toBe('');
    expect(existsSync(join(spare!.path, 'src/f3.txt'))).toBe(false);
    expect(existsSync(join(spare!.path, 'src/new.txt'))).toBe(true);
    // Abort, clean and resume find spares without a supervisor, as they find every pool worktree.
    expect(await poolWorktrees({ repo: git, repoRoot: repo.root, config, run: RUN })).toEqual([spare!.path]);

    // Until the check passes, a task starts at the verified tip: the spare is checked out back there.
    await journal.append({ type: 'task.ready', task: 'c' });
    const c = await ws.ensure({ task: 'c' });
    expect(await repo.git('-C', c, 'rev-parse', 'HEAD')).toBe(head);
    expect(existsSync(join(c, 'src/f3.txt'))).toBe(true);
    expect(existsSync(join(c, 'src/new.txt'))).toBe(false);
    expect(await repo.git('-C', c, 'status', '--porcelain')).toBe('');

    await ws.drain();
    expect(await spares(git, repo.root)).toEqual([]);
    expect(existsSync(spare!.path)).toBe(false);
    // Once drained (the run ended), events warm nothing.
    await journal.append({ type: 'task.verifying', task: 'b' });
    await new Promise((r) => setTimeout(r, 100));
    expect(await spares(git, repo.root)).toEqual([]);
  });

  it('keeps no more spares than the pool holds, and takes an idle one at another commit with an incremental checkout', async () => {
    const { repo, git, head, journal, ws } = await setup(1);
    const a = await ws.ensure({ task: 'a' });
    await journal.append({ type: 'task.verifying', task: 'a' });
    await until('a spare', async () => (await spares(git, repo.root)).length === 1);
    // a's merged worktree comes back while the spare exists: the pool (size 1) is full.
    await repo.git('-C', a, 'commit', '-q', '--allow-empty', '-m', 'a');
    await journal.append({ type: 'task.merged', task: 'a', commit: head, stagingBefore: head, evidence });
    await ws.release(a);
    expect(existsSync(a)).toBe(false);
    expect(await spares(git, repo.root)).toHaveLength(1);
    await journal.append({ type: 'task.ready', task: 'b' });
    const b = await ws.ensure({ task: 'b' });
    expect(await repo.git('-C', b, 'rev-parse', 'HEAD')).toBe(head);
    await ws.drain();
    expect(await spares(git, repo.root)).toEqual([]);
  });

  it('gives a spare its node_modules ahead of need: the task keeps it, no copy on its way to running', async () => {
    const lock = JSON.stringify({ name: 'app', lockfileVersion: 3, packages: {} });
    const { repo, git, head, journal, ws } = await setup(2, {
      'package.json': JSON.stringify({ name: 'app', version: '1.0.0' }),
      'package-lock.json': lock,
    });
    // The checkout's installed dependencies (what a spare copies while the lockfiles match).
    await repo.write('node_modules/dep/index.js', 'module.exports = 1;\n');
    await ws.ensure({ task: 'a' });
    await journal.append({ type: 'task.verifying', task: 'a' });
    await until('a spare with its node_modules', async () =>
      (await spares(git, repo.root)).some((s) =>
        existsSync(join(s.path, 'node_modules', NODE_MODULES_MARKER)),
      ),
    );
    const [spare] = await spares(git, repo.root);
    const inode = (await stat(join(spare!.path, 'node_modules/dep/index.js'))).ino;
    await journal.append({ type: 'task.merged', task: 'a', commit: head, stagingBefore: head, evidence });
    await journal.append({ type: 'task.ready', task: 'b' });
    const log = join(repo.root, 'b.log');
    const b = await ws.ensure({ task: 'b', logFile: log });
    expect((await stat(join(b, 'node_modules/dep/index.js'))).ino).toBe(inode);
    // The copy was made ahead of need, and the task's log says so.
    expect(await readFile(log, 'utf8')).toMatch(
      /^\[orch bootstrap\] node_modules: copied from the checkout .*\(ahead of need, in a spare worktree\)\n$/,
    );
    await ws.drain();
  });

  it('discards a spare whose checkout a crash interrupted, and takes none of it', async () => {
    const { repo, git, head, journal } = await setup();
    // What a supervisor killed between registering a spare and writing its files leaves.
    const half = `${poolPrefix(repo.root)}7`;
    await repo.git('worktree', 'add', '-q', '--detach', '--no-checkout', half, head);
    const ws = new GitWorkspaces({ repo: git, repoRoot: repo.root, config, run: RUN, journal, poolSize: 2 });
    await journal.append({ type: 'task.ready', task: 'a' });
    const a = await ws.ensure({ task: 'a' });
    expect(existsSync(join(a, 'src/f3.txt'))).toBe(true);
    expect(await repo.git('-C', a, 'status', '--porcelain')).toBe('');
    expect((await spares(git, repo.root)).map((s) => s.path)).not.toContain(half);
    await ws.drain();
    expect(await spares(git, repo.root)).toEqual([]);
  });
});

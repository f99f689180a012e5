/**
 * Spare worktrees of a run. Writing every file of a big repository for each new task, and deleting
 * them again after its merge, dominates provisioning; a merged task's worktree is instead kept
 * (clean, detached), and spare ones are made ahead of need ("warm") at the last verified staging
 * tip while the tasks that will need them are still waiting for their dependencies. A task then
 * moves one into place and checks its branch out there: a rename and a branch switch that rewrites
 * only the files that differ, none when the spare is at the task's start commit.
 *
 * Pool worktrees are detached and hold nothing unmerged, so dropping one never loses work; they all
 * live at `_pool-<run>-<n>` under the worktree folder, which is how abort, clean and resume find
 * them without a supervisor.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { traced, type Config, type RunState } from '@orch/core';
import { listWorktrees, removeWorktree, retryRaces, runGit, withRepoLock, type Repo } from '@orch/git';

/** Where a run's pool lives. */
export interface PoolScope {
  repo: Repo;
  repoRoot: string;
  config: Config;
  run: string;
}

interface Spare {
  path: string;
  /** The commit it has checked out, when the pool put it there. */
  at?: string;
  /** Being made, re-pointed or bootstrapped: not to be taken yet. */
  busy: boolean;
  /** A task waits for this busy one (each waits for its own, the others make a worktree). */
  claimed?: boolean;
  /** Its node_modules is being copied from: not to be re-pointed (re-bootstrapped) meanwhile. */
  lent: number;
  /** What bootstrapping it ahead of need did, for the log of the task that takes it. */
  notes: string[];
}

/** A spare moved into a task's place. */
export interface Taken {
  path: string;
  /** What was done to it ahead of need (dependency lines for the task's log). */
  notes: string[];
}

/** Statuses after which a task's work is on its way to staging. */
const LANDING = new Set(['verifying', 'merging', 'merged']);

/**
 * How many tasks will want a new worktree soon: ready ones without a worktree (waiting for a worker
 * slot) and pending ones whose every dependency is verifying, merging or merged. `making`: tasks
 * getting their worktree right now (a spare or a new one of their own), which a spare made now
 * would not serve: it would only compete with their checkouts for the cores.
 */
export function upcomingWorktrees(state: RunState, making: ReadonlySet<string> = new Set()): number {
  let n = 0;
  for (const id of state.order) {
    const t = state.tasks[id];
    if (!t || t.worktree || making.has(id)) continue;
    if (t.status === 'ready') n++;
    // (One without dependencies becomes ready at once and is counted then.)
    else if (
      t.status === 'pending' &&
      t.dependsOn.length > 0 &&
      t.dependsOn.every((d) => LANDING.has(state.tasks[d]?.status ?? ''))
    )
      n++;
  }
  return n;
}

function poolPrefix(ctx: PoolScope): string {
  return join(ctx.repoRoot, ctx.config.orchestration.worktree_dir, `_pool-${ctx.run}-`);
}

export class WorktreePool {
  private readonly spares: Spare[] = [];
  private next = 0;
  private discovered: Promise<void> | undefined;
  private closed = false;
  private warming: Promise<void> | undefined;
  private readonly waiters: (() => void)[] = [];

  /**
   * @param want how many spares should be at which commit now (asked again after each step);
   *   undefined: make none.
   * @param prepare bootstraps a warm spare (dependencies) before anyone needs it; its errors only
   *   leave the spare to the task's own bootstrap.
   */
  constructor(
    private readonly ctx: PoolScope,
    private readonly limit: number,
    private readonly lockReason: string,
    private readonly want: () => { tip: string; count: number } | undefined = () => undefined,
    private readonly prepare: (path: string) => Promise<string[]> = () => Promise.resolve([]),
  ) {}

  /** Wakes the takers waiting for a spare to become idle (or to go). */
  private settled(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Finds pool worktrees a previous supervisor of this run left (after a resume). */
  private discover(): Promise<void> {
    this.discovered ??= (async () => {
      const prefix = poolPrefix(this.ctx);
      for (const w of await retryRaces(() => listWorktrees(this.ctx.repo))) {
        if (!w.path.startsWith(prefix)) continue;
        const n = Number(w.path.slice(prefix.length));
        if (Number.isInteger(n)) this.next = Math.max(this.next, n + 1);
        // A warm one whose checkout a crash interrupted has no index: it cannot be trusted.
        if (!(await populated(w.path))) {
          await removeWorktree(this.ctx.repo, w.path, { force: true }).catch(traced('pool.discard'));
          continue;
        }
        this.spares.push({ path: w.path, busy: false, lent: 0, notes: [] });
      }
    })();
    return this.discovered;
  }

  /**
   * Runs `fn` with the paths of the idle spares (sources of a node_modules for the same lockfiles),
   * which the pool does not re-bootstrap meanwhile. A task may still take one: a copy from it then
   * fails and the caller installs instead.
   */
  async lend<T>(fn: (paths: string[]) => Promise<T>, except?: string): Promise<T> {
    await this.discover();
    const lent = this.spares.filter((s) => !s.busy && s.path !== except);
    for (const s of lent) s.lent++;
    try {
      return await fn(lent.map((s) => s.path));
    } finally {
      for (const s of lent) s.lent--;
      this.kick();
    }
  }

  /** Takes a merged task's worktree into the pool (or removes it when the pool is full). */
  async release(worktree: string): Promise<void> {
    await this.discover();
    if (!existsSync(join(worktree, '.git'))) return;
    const { repo } = this.ctx;
    if (this.closed || this.spares.length >= this.limit) {
      await removeWorktree(repo, worktree, { force: true });
      return;
    }
    const spare: Spare = { path: `${poolPrefix(this.ctx)}${this.next++}`, busy: true, lent: 0, notes: [] };
    this.spares.push(spare);
    try {
      // Clean and detached: the task's branch can go, and the next task starts from a known tree.
      // Ignored files (a copied .env, a node_modules of its own) stay: every task gets the same ones.
      await repo.git(['reset', '-q', '--hard'], { cwd: worktree });
      await repo.git(['clean', '-fdq'], { cwd: worktree });
      await repo.git(['checkout', '-q', '--detach'], { cwd: worktree });
      await withRepoLock(repo, () => move(repo, worktree, spare.path));
    } catch (e) {
      this.spares.splice(this.spares.indexOf(spare), 1);
      this.settled();
      await removeWorktree(repo, worktree, { force: true }).catch(traced('pool.release'));
      throw e;
    }
    spare.busy = false;
    this.settled();
    this.kick();
  }

  /**
   * Moves a spare to `path` and checks `branch` out there at `commit` (created): one at `commit`
   * first, else any idle one; waits for one being warmed when none is idle. Undefined when the pool
   * has none.
   */
  async take(path: string, branch: string, commit: string): Promise<Taken | undefined> {
    await this.discover();
    const idle = this.spares.filter((s) => !s.busy && !s.claimed);
    let spare = idle.find((s) => s.at === commit) ?? idle[0];
    if (!spare) {
      // One being made is nearer done than a new checkout; with none to wait for, make one.
      const pending = this.spares.find((s) => s.busy && !s.claimed);
      if (!pending) return undefined;
      pending.claimed = true;
      while (pending.busy && this.spares.includes(pending))
        await new Promise<void>((r) => this.waiters.push(r));
      if (!this.spares.includes(pending)) return undefined;
      spare = pending;
    }
    this.spares.splice(this.spares.indexOf(spare), 1);
    const { repo } = this.ctx;
    try {
      // Under the lock only what other worktrees' and branches' changes must not interleave with;
      // the checkout (every file's stat, on a big repository) is the worktree's own business.
      await withRepoLock(repo, async () => {
        await move(repo, spare.path, path);
        await repo.git(['branch', '--no-track', branch, commit]);
      });
      await repo.git(['checkout', '-q', branch], { cwd: path });
    } catch (e) {
      traced('pool.take')(e);
      await removeWorktree(repo, existsSync(path) ? path : spare.path, { force: true }).catch(
        traced('pool.take'),
      );
      return undefined;
    } finally {
      this.settled();
    }
    this.kick();
    return { path, notes: spare.notes };
  }

  /**
   * Keeps as many spares as `want` says (at most the pool's size) checked out at its tip and
   * bootstrapped, in the background: idle ones elsewhere are re-pointed (an incremental checkout:
   * the tip moved, or a merged task's worktree came back), missing ones made. Called on every
   * change of the run; cheap when nothing is to be done.
   */
  kick(): void {
    if (this.warming || this.closed) return;
    const w = this.want();
    if (!w || this.spares.filter((s) => s.at === w.tip).length >= Math.min(w.count, this.limit)) return;
    this.warming = this.warmLoop()
      .catch(traced('pool.warm'))
      .finally(() => {
        this.warming = undefined;
      });
  }

  /** One spare at a time: warming competes with the workers for the same cores. */
  private async warmLoop(): Promise<void> {
    await this.discover();
    for (;;) {
      const w = this.want();
      if (this.closed || !w) return;
      const ready = this.spares.filter((s) => s.at === w.tip).length;
      if (ready >= Math.min(w.count, this.limit)) return;
      const stale = this.spares.find((s) => !s.busy && !s.claimed && s.lent === 0 && s.at !== w.tip);
      if (stale) {
        stale.busy = true;
        try {
          await this.ctx.repo.git(['checkout', '-q', '--detach', w.tip], { cwd: stale.path });
          stale.at = w.tip;
          stale.notes.push(...((await this.prepare(stale.path).catch(traced('pool.prepare'))) ?? []));
        } catch (e) {
          this.spares.splice(this.spares.indexOf(stale), 1);
          await removeWorktree(this.ctx.repo, stale.path, { force: true }).catch(traced('pool.warm'));
          throw e;
        } finally {
          stale.busy = false;
          this.settled();
        }
        continue;
      }
      if (this.spares.length >= this.limit) return;
      const spare: Spare = { path: `${poolPrefix(this.ctx)}${this.next++}`, busy: true, lent: 0, notes: [] };
      this.spares.push(spare);
      try {
        await this.create(spare.path, w.tip);
        spare.at = w.tip;
        spare.notes.push(...((await this.prepare(spare.path).catch(traced('pool.prepare'))) ?? []));
      } catch (e) {
        this.spares.splice(this.spares.indexOf(spare), 1);
        await removeWorktree(this.ctx.repo, spare.path, { force: true }).catch(traced('pool.warm'));
        throw e;
      } finally {
        spare.busy = false;
        this.settled();
      }
    }
  }

  /** A detached worktree at `tip`: registered under the repository lock, its files written outside it. */
  private async create(path: string, tip: string): Promise<void> {
    const { repo } = this.ctx;
    await withRepoLock(repo, () =>
      repo.git([
        'worktree',
        'add',
        '-q',
        '--detach',
        '--no-checkout',
        '--lock',
        '--reason',
        this.lockReason,
        path,
        tip,
      ]),
    );
    await repo.git(['reset', '-q', '--hard'], { cwd: path });
  }

  /**
   * Stops warming and removes every pool worktree of the run (at its end: their files are deleted
   * in the background, which the finished run does not wait for).
   */
  async drain(): Promise<void> {
    this.closed = true;
    this.settled();
    await this.warming;
    await this.discover();
    while (this.spares.length > 0) {
      const s = this.spares.pop() as Spare;
      await removeWorktree(this.ctx.repo, s.path, { force: true, deleteLater: true }).catch(
        traced('pool.drain'),
      );
    }
  }
}

/** A locked worktree moves with `--force` twice; its lock (the run's reason) moves with it. */
async function move(repo: Repo, from: string, to: string): Promise<void> {
  await repo.git(['worktree', 'move', '-f', '-f', from, to]);
}

/** Its files were checked out: the worktree's index exists. */
async function populated(path: string): Promise<boolean> {
  const r = await runGit(['rev-parse', '--git-path', 'index'], { cwd: path, reject: false });
  return r.exitCode === 0 && existsSync(resolve(path, r.stdout.trim()));
}

/** Pool worktrees of a run, for abort and resume to clean up without a supervisor. */
export async function poolWorktrees(ctx: PoolScope): Promise<string[]> {
  const prefix = poolPrefix(ctx);
  return (await retryRaces(() => listWorktrees(ctx.repo)))
    .map((w) => w.path)
    .filter((p) => p.startsWith(prefix));
}

/**
 * Recycled worktrees. Writing every file of a big repository for each new task, and deleting them
 * again after its merge, dominates provisioning; a merged task's worktree is instead kept (clean,
 * detached), and the next task moves it into place and checks its branch out there, which rewrites
 * only the files that differ. Pool worktrees hold nothing unmerged, so dropping one never loses work.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { traced, type Config } from '@orch/core';
import { listWorktrees, removeWorktree, withRepoLock, type Repo } from '@orch/git';

/** Where a run's pool lives. */
export interface PoolScope {
  repo: Repo;
  repoRoot: string;
  config: Config;
  run: string;
}

export class WorktreePool {
  private readonly free: string[] = [];
  private next = 0;
  private discovered = false;

  constructor(
    private readonly ctx: PoolScope,
    private readonly limit: number,
  ) {}

  private dir(): string {
    return join(this.ctx.repoRoot, this.ctx.config.orchestration.worktree_dir);
  }

  private prefix(): string {
    return join(this.dir(), `_pool-${this.ctx.run}-`);
  }

  /** Finds pool worktrees a previous supervisor of this run left (after a resume). */
  private async discover(): Promise<void> {
    if (this.discovered) return;
    this.discovered = true;
    for (const w of await listWorktrees(this.ctx.repo)) {
      if (!w.path.startsWith(this.prefix())) continue;
      this.free.push(w.path);
      const n = Number(w.path.slice(this.prefix().length));
      if (Number.isInteger(n)) this.next = Math.max(this.next, n + 1);
    }
  }

  /** Takes a merged task's worktree into the pool (or removes it when the pool is full). */
  async release(worktree: string, lockReason: string): Promise<void> {
    await this.discover();
    if (!existsSync(join(worktree, '.git'))) return;
    const { repo } = this.ctx;
    if (this.free.length >= this.limit) {
      await removeWorktree(repo, worktree, { force: true });
      return;
    }
    // Clean and detached: the task's branch can go, and the next task starts from a known tree.
    // Ignored files (a copied .env, a linked node_modules) stay: every task gets the same ones.
    await repo.git(['reset', '-q', '--hard'], { cwd: worktree });
    await repo.git(['clean', '-fdq'], { cwd: worktree });
    await repo.git(['checkout', '-q', '--detach'], { cwd: worktree });
    const target = `${this.prefix()}${this.next++}`;
    await withRepoLock(repo, async () => {
      await repo.git(['worktree', 'unlock', worktree], { reject: false });
      await repo.git(['worktree', 'move', worktree, target]);
      await repo.git(['worktree', 'lock', '--reason', lockReason, target], { reject: false });
    });
    this.free.push(target);
  }

  /**
   * Moves a pool worktree to `path` and checks `branch` out there at `commit` (created); undefined
   * when the pool is empty.
   */
  async take(path: string, branch: string, commit: string, lockReason: string): Promise<string | undefined> {
    await this.discover();
    const from = this.free.shift();
    if (!from) return undefined;
    const { repo } = this.ctx;
    await withRepoLock(repo, async () => {
      await repo.git(['worktree', 'unlock', from], { reject: false });
      await repo.git(['worktree', 'move', from, path]);
      await repo.git(['worktree', 'lock', '--reason', lockReason, path], { reject: false });
      await repo.git(['checkout', '-q', '-B', branch, commit], { cwd: path });
    });
    return path;
  }

  /** Removes every pool worktree of the run. */
  async drain(): Promise<void> {
    await this.discover();
    while (this.free.length > 0) {
      const p = this.free.pop() as string;
      await removeWorktree(this.ctx.repo, p, { force: true }).catch(traced('pool.drain'));
    }
  }
}

/** Pool worktrees of a run, for abort and resume to clean up without a supervisor. */
export async function poolWorktrees(ctx: PoolScope): Promise<string[]> {
  const prefix = join(ctx.repoRoot, ctx.config.orchestration.worktree_dir, `_pool-${ctx.run}-`);
  return (await listWorktrees(ctx.repo)).map((w) => w.path).filter((p) => p.startsWith(prefix));
}

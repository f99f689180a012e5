/**
 * Task workspaces as git worktrees of the user's repository (the `Workspaces` port): the task's
 * branch checked out under the worktree folder, taken from the pool of spares (recycled after a
 * merge, or made ahead of need at the verified staging tip while dependencies land).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '@orch/core';
import { addWorktree, listWorktrees, pruneWorktrees, removeWorktree, retryRaces, type Repo } from '@orch/git';
import type { RunLog } from '../ports/run-log.js';
import type { WorkspaceGitDirs, WorkspaceRequest, Workspaces } from '../ports/workspaces.js';
import {
  clearWorktreeLocks,
  inspectWorktree,
  removeWorktreeLinks,
  worktreeGitDirs,
} from '../ports/worktree-files.js';
import { taskBranch, worktreePath } from '../run/names.js';
import { appendLog, bootstrapWorktree, refreshWorktree } from './bootstrap.js';
import { WorktreePool, upcomingWorktrees } from './pool.js';

export interface WorktreeScope {
  repo: Repo;
  repoRoot: string;
  config: Config;
  run: string;
  journal: RunLog;
  /** How many merged worktrees are kept for reuse. */
  poolSize: number;
}

export class GitWorkspaces implements Workspaces {
  private readonly pool: WorktreePool;
  private unsubscribe: (() => void) | undefined;
  /** Tasks inside `ensure`, before their `task.worktree`: they take a spare or make their own. */
  private readonly making = new Set<string>();

  constructor(private readonly s: WorktreeScope) {
    this.pool = new WorktreePool(
      s,
      s.poolSize,
      this.reason,
      () => {
        const state = s.journal.state;
        if (!state || state.phase !== 'running') return undefined;
        // Speculatively the newest staging tip, whose check may still run: when it passes, that is
        // where the next tasks start; when it fails, the spares are re-pointed (or taken anyway,
        // with a bigger incremental checkout).
        return { tip: state.stagingCommit, count: upcomingWorktrees(state, this.making) };
      },
      // Dependencies ahead of need; setup commands wait for the task (they see its environment).
      (path) =>
        this.pool.lend(
          (siblings) =>
            bootstrapWorktree(s.repoRoot, path, s.config, process.env as Record<string, string>, {
              depsOnly: true,
              siblings,
            }).then((r) => r.install.map((l) => `${l} (ahead of need, in a spare worktree)`)),
          path,
        ),
    );
  }

  private get reason(): string {
    return `orch run ${this.s.run}`;
  }

  /**
   * From the first task on (a supervisor is launching workers), spares follow the run: each change
   * of its state may make a task's worktree due soon or move the verified tip.
   */
  private follow(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.s.journal.subscribe(() => this.pool.kick());
    this.pool.kick();
  }

  async ensure(req: WorkspaceRequest): Promise<string> {
    this.making.add(req.task);
    try {
      return await this.place(req);
    } finally {
      this.making.delete(req.task);
    }
  }

  private async place(req: WorkspaceRequest): Promise<string> {
    this.follow();
    const { repo, repoRoot, config, run, journal } = this.s;
    const id = req.task;
    const state = journal.state;
    if (!state) throw new Error('run state missing');
    const t = state.tasks[id];
    const env = { ...(process.env as Record<string, string>), ...(req.env ?? {}) };
    const log = req.logFile ? { logFile: req.logFile } : {};
    const path = worktreePath(repoRoot, config, id);
    if (t?.worktree && existsSync(join(t.worktree, '.git'))) {
      // A retry: staging may have been merged in since, with other lockfiles.
      const wt = t.worktree;
      await this.pool.lend((siblings) => refreshWorktree(repoRoot, wt, config, env, { ...log, siblings }));
      return wt;
    }
    const branch = taskBranch(run, id);
    const existing = await repo.tryRevParse(`refs/heads/${branch}`);
    // A pool worktree moved into place by a supervisor that stopped before checking the branch out
    // is detached and holds nothing unmerged: it can go.
    // (Spares are being made alongside: git's known races are retried.)
    const stray =
      existsSync(path) &&
      (await retryRaces(() => listWorktrees(repo))).find((w) => w.path === path && !w.branch);
    if (stray) await removeWorktree(repo, path, { force: true });
    let commit: string;
    if (existing) {
      // The branch already holds this task's work (a crash, or a recreated worktree): reuse it.
      commit = existing;
      await addWorktree(repo, { path, branch, commit, reuseBranch: true, lockReason: this.reason });
    } else {
      // The last staging tip whose incremental check passed, never a merge whose check still runs:
      // if that check fails and staging goes back, this task must not carry the other task's files.
      // (The journal holds it as a commit id; only something else needs resolving.)
      commit = /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(state.stagingVerified)
        ? state.stagingVerified
        : await repo.revParse(`${state.stagingVerified}^{commit}`);
      const recycled = await this.pool.take(path, branch, commit);
      if (recycled) await appendLog(req.logFile, recycled.notes);
      else await addWorktree(repo, { path, branch, commit, reuseBranch: true, lockReason: this.reason });
    }
    const baseCommit = t?.baseCommit ?? commit;
    await journal.append({ type: 'task.worktree', task: id, path, branch, baseCommit });
    await this.pool.lend((siblings) => bootstrapWorktree(repoRoot, path, config, env, { ...log, siblings }));
    return path;
  }

  release(path: string): Promise<void> {
    return this.pool.release(path);
  }

  drain(): Promise<void> {
    this.unsubscribe?.();
    return this.pool.drain();
  }

  async inspect(path: string): Promise<{ exists: boolean; checkout: boolean }> {
    return inspectWorktree(path);
  }

  isClean(path: string): Promise<boolean> {
    return this.s.repo.isClean(path);
  }

  async remove(path: string): Promise<void> {
    await removeWorktree(this.s.repo, path, { force: true });
  }

  prune(): Promise<void> {
    return pruneWorktrees(this.s.repo);
  }

  clearGitLocks(task: string, path: string): Promise<string[]> {
    return clearWorktreeLocks(this.s.repo, this.s.run, task, path);
  }

  removePlantedLinks(task: string, path: string): Promise<string[]> {
    return removeWorktreeLinks(this.s.repo, this.s.run, task, path);
  }

  gitDirs(task: string, path: string): Promise<WorkspaceGitDirs> {
    return worktreeGitDirs(this.s.repo, this.s.run, task, path);
  }
}

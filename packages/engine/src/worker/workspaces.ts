/**
 * Task workspaces as git worktrees of the user's repository (the `Workspaces` port): the task's
 * branch checked out under the worktree folder, recycled through the pool after a merge.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '@orch/core';
import { addWorktree, listWorktrees, pruneWorktrees, removeWorktree, type Repo } from '@orch/git';
import type { RunLog } from '../ports/run-log.js';
import type { WorkspaceGitDirs, WorkspaceRequest, Workspaces } from '../ports/workspaces.js';
import {
  clearWorktreeLocks,
  inspectWorktree,
  removeWorktreeLinks,
  worktreeGitDirs,
} from '../ports/worktree-files.js';
import { taskBranch, worktreePath } from '../run/names.js';
import { bootstrapWorktree, refreshWorktree } from './bootstrap.js';
import { WorktreePool } from './pool.js';

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

  constructor(private readonly s: WorktreeScope) {
    this.pool = new WorktreePool(s, s.poolSize);
  }

  private get reason(): string {
    return `orch run ${this.s.run}`;
  }

  async ensure(req: WorkspaceRequest): Promise<string> {
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
      await refreshWorktree(repoRoot, t.worktree, config, env, log);
      return t.worktree;
    }
    const branch = taskBranch(run, id);
    const existing = await repo.tryRevParse(`refs/heads/${branch}`);
    // A pool worktree moved into place by a supervisor that stopped before checking the branch out
    // is detached and holds nothing unmerged: it can go.
    const stray = (await listWorktrees(repo)).find((w) => w.path === path && !w.branch);
    if (stray) await removeWorktree(repo, path, { force: true });
    let commit: string;
    if (existing) {
      // The branch already holds this task's work (a crash, or a recreated worktree): reuse it.
      commit = existing;
      await addWorktree(repo, { path, branch, commit, reuseBranch: true, lockReason: this.reason });
    } else {
      // The last staging tip whose incremental check passed, never a merge whose check still runs:
      // if that check fails and staging goes back, this task must not carry the other task's files.
      commit = await repo.revParse(`${state.stagingVerified}^{commit}`);
      const recycled = await this.pool.take(path, branch, commit, this.reason);
      if (!recycled)
        await addWorktree(repo, { path, branch, commit, reuseBranch: true, lockReason: this.reason });
    }
    const baseCommit = t?.baseCommit ?? commit;
    await journal.append({ type: 'task.worktree', task: id, path, branch, baseCommit });
    await bootstrapWorktree(repoRoot, path, config, env, log);
    return path;
  }

  release(path: string): Promise<void> {
    return this.pool.release(path, this.reason);
  }

  drain(): Promise<void> {
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

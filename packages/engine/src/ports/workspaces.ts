/**
 * Task workspaces: a checkout of the task's branch per task. Today git worktrees of the user's
 * repository, recycled through a pool; on a remote host a worktree of the host's own clone.
 */

/** What a workspace is made for; all plain data. */
export interface WorkspaceRequest {
  task: string;
  /** The environment the bootstrap's setup commands see. */
  env?: Record<string, string>;
  /** Where the bootstrap's output goes (the attempt's log). */
  logFile?: string;
}

export interface Workspaces {
  /**
   * The task's workspace: the existing one (refreshed), or one made on its branch, from the
   * verified staging tip, and bootstrapped. Journals `task.worktree` when it is new. Returns its path.
   */
  ensure(req: WorkspaceRequest): Promise<string>;
  /** A merged task's workspace is given back (kept for the next task, or removed). */
  release(path: string): Promise<void>;
  /** Removes every workspace kept for reuse (the run ended). */
  drain(): Promise<void>;
  // The operations on a workspace's files: the host that holds the workspace answers them, so the
  // supervisor never reads a worker's files itself.
  /** Whether the folder is there, and whether it is a checkout (has its `.git` link). */
  inspect(path: string): Promise<{ exists: boolean; checkout: boolean }>;
  /** No uncommitted changes to tracked files and no untracked files. */
  isClean(path: string): Promise<boolean>;
  /** Removes a workspace (uncommitted changes included); its branch stays. Nothing when it is gone. */
  remove(path: string): Promise<void>;
  /** Forgets workspaces whose folders are gone (what a crash or a user's `rm -rf` left). */
  prune(): Promise<void>;
  /** Removes the lock files a worker killed mid-commit leaves (index, HEAD, its branch ref); the removed. */
  clearGitLocks(task: string, path: string): Promise<string[]>;
  /** Removes symlinks planted in the git folders a sandboxed worker may write; the removed. */
  removePlantedLinks(task: string, path: string): Promise<string[]>;
  /** The git folders a task's sandbox binds; `adminDir` undefined when the `.git` link points elsewhere. */
  gitDirs(task: string, path: string): Promise<WorkspaceGitDirs>;
}

/** Where git keeps a workspace's own state, as its host sees it. */
export interface WorkspaceGitDirs {
  /** The repository's common git folder. */
  commonDir: string;
  /** The worktree's admin folder `<commonDir>/worktrees/<name>`. */
  adminDir: string | undefined;
  /** The folders of the task branch's ref and its reflog, which hold nothing else. */
  refDir: string;
  logDir: string;
}

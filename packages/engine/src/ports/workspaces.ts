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
}

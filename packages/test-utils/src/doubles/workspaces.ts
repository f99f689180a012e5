/**
 * Task workspaces as plain records, shaped like the engine's `Workspaces` port: a test says which
 * folders exist, are checkouts, have uncommitted changes, or hold stale git locks; the double
 * records what the engine made and removed.
 */
export interface FakeWorkspace {
  checkout: boolean;
  clean: boolean;
  /** Lock files a killed worker left. */
  locks: string[];
  /** Symlinks a worker planted in its git folders. */
  links: string[];
}

export class FakeWorkspaces {
  readonly folders = new Map<string, FakeWorkspace>();
  /** Tasks whose workspace `ensure` made or refreshed, in order. */
  readonly ensured: string[] = [];
  readonly removed: string[] = [];
  readonly released: string[] = [];
  pruned = 0;

  constructor(private readonly root = '/workspaces') {}

  /** Where the task's workspace is made. */
  pathOf(task: string): string {
    return `${this.root}/${task}`;
  }

  /** Puts a workspace in place (a checkout, clean, without locks unless told otherwise). */
  add(path: string, ws: Partial<FakeWorkspace> = {}): this {
    this.folders.set(path, { checkout: true, clean: true, locks: [], links: [], ...ws });
    return this;
  }

  async ensure(req: { task: string }): Promise<string> {
    const path = this.pathOf(req.task);
    if (!this.folders.get(path)?.checkout) this.add(path);
    this.ensured.push(req.task);
    return path;
  }

  async release(path: string): Promise<void> {
    this.folders.delete(path);
    this.released.push(path);
  }

  async drain(): Promise<void> {}

  async inspect(path: string): Promise<{ exists: boolean; checkout: boolean }> {
    const ws = this.folders.get(path);
    return { exists: ws !== undefined, checkout: ws?.checkout ?? false };
  }

  async isClean(path: string): Promise<boolean> {
    return this.folders.get(path)?.clean ?? true;
  }

  async remove(path: string): Promise<void> {
    if (this.folders.delete(path)) this.removed.push(path);
  }

  async prune(): Promise<void> {
    this.pruned += 1;
  }

  async clearGitLocks(_task: string, path: string): Promise<string[]> {
    const ws = this.folders.get(path);
    const locks = ws?.locks ?? [];
    if (ws) ws.locks = [];
    return locks;
  }

  async removePlantedLinks(_task: string, path: string): Promise<string[]> {
    const ws = this.folders.get(path);
    const links = ws?.links ?? [];
    if (ws) ws.links = [];
    return links;
  }

  async gitDirs(
    task: string,
    path: string,
  ): Promise<{
    commonDir: string;
    adminDir: string | undefined;
    refDir: string;
    logDir: string;
  }> {
    return {
      commonDir: `${this.root}/.git`,
      adminDir: this.folders.get(path)?.checkout ? `${this.root}/.git/worktrees/${task}` : undefined,
      refDir: `${this.root}/.git/refs/heads/orch`,
      logDir: `${this.root}/.git/logs/refs/heads/orch`,
    };
  }
}

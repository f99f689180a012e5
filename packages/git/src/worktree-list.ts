/** One record of `git worktree list --porcelain -z`. */
export interface WorktreeInfo {
  path: string;
  /** Commit checked out (absent for a bare entry). */
  head: string;
  /** Short branch name; absent when detached. */
  branch?: string;
  bare: boolean;
  detached: boolean;
  locked: boolean;
  lockReason?: string;
  prunable: boolean;
}

/** Parses the porcelain format, whose layout git keeps stable regardless of user configuration. */
export function parseWorktreeList(out: string): WorktreeInfo[] {
  const list: WorktreeInfo[] = [];
  let cur: WorktreeInfo | undefined;
  for (const field of out.split('\0')) {
    if (field === '') {
      cur = undefined; // an empty field ends a record
      continue;
    }
    const sp = field.indexOf(' ');
    const key = sp < 0 ? field : field.slice(0, sp);
    const value = sp < 0 ? '' : field.slice(sp + 1);
    if (key === 'worktree') {
      cur = { path: value, head: '', bare: false, detached: false, locked: false, prunable: false };
      list.push(cur);
      continue;
    }
    if (!cur) continue;
    if (key === 'HEAD') cur.head = value;
    else if (key === 'branch') cur.branch = value.replace(/^refs\/heads\//, '');
    else if (key === 'bare') cur.bare = true;
    else if (key === 'detached') cur.detached = true;
    else if (key === 'locked') {
      cur.locked = true;
      if (value) cur.lockReason = value;
    } else if (key === 'prunable') cur.prunable = true;
  }
  return list;
}

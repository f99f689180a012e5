/**
 * The git operations the engine needs, on commits and refs only (no working tree): what a shared
 * git remote plus a local clone can serve as well as the user's repository does today.
 */
import type { Landing } from '@orch/core';
import type {
  ChangedPath,
  CommitMergeOptions,
  CommitMergeResult,
  ChangedPathsOptions,
  MergeIntoRefOptions,
  MergeIntoRefResult,
  TreeEntry,
} from '@orch/git';

export interface Repository {
  revParse(ref: string): Promise<string>;
  tryRevParse(ref: string): Promise<string | null>;
  isAncestor(a: string, b: string): Promise<boolean>;
  mergeBase(a: string, b: string): Promise<string | null>;
  /** merge-tree + commit-tree + compare-and-swap update-ref of `opts.target`. */
  mergeInto(opts: MergeIntoRefOptions): Promise<MergeIntoRefResult>;
  /** The tree of merging `source` onto `onto`, or null on a conflict. */
  mergedTree(onto: string, source: string): Promise<string | null>;
  /** Compare-and-swap: `ref` moves to `next` only if it is at `expectedOld` (null: must not exist). */
  updateRef(ref: string, next: string, expectedOld: string | null, message?: string): Promise<void>;
  /** orch's landings on the first-parent line of `tip` back to `since`. */
  landings(tip: string, since: string): Promise<Landing[]>;
  readFile(commit: string, path: string): Promise<string | null>;
  lsTree(commit: string): Promise<TreeEntry[]>;
  changedPaths(base: string, head: string, opts?: ChangedPathsOptions): Promise<ChangedPath[]>;
  /**
   * Keeps a branch's tip under an archive name (`-2`, `-3`, ... appended when it is taken); null
   * when the branch does not exist. `ref` is the archive's full ref name.
   */
  archiveBranch(branch: string, archiveName: string): Promise<{ commit: string; ref: string } | null>;
  deleteBranch(name: string): Promise<void>;
  /**
   * A repository shared through a remote: fetch the refs hosts pushed, publish a ref with a lease
   * on its journaled tip. Absent for the local repository, where every ref is already shared.
   */
  remote?: {
    fetch(refs: readonly string[]): Promise<void>;
    push(ref: string, expectedOld: string | null): Promise<void>;
  };
  /** `git diff --stat` and the whole patch of base..head (renames detected, no external tools). */
  diff(base: string, head: string): Promise<{ stat: string; patch: string }>;
  /** The landing commit of `source` on `onto` (merge-tree + commit-tree), no ref moved. */
  commitMerge(opts: CommitMergeOptions): Promise<CommitMergeResult>;
  /** The parents of `commit`, in order (first parent first). */
  parents(commit: string): Promise<string[]>;
}

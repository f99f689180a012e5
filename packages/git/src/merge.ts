import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LANDING_LOG_FORMAT, OrchError, parseLandings, type Landing, isOrchError } from '@orch/core';
import { exactExcludePattern } from './checkout-ff.js';
import type { Repo } from './repo.js';
import { identityEnv, runGit, splitNul } from './exec.js';
import { assertNotCheckedOut, casUpdateRef } from './refs.js';

export interface MergeIntoRefOptions {
  /** Full ref to merge into, e.g. refs/heads/orch/r1/staging. */
  target: string;
  /** Commit or ref to merge. */
  source: string;
  message: string;
  /** Fail with ERR_ORCH_REF_MOVED unless the target is exactly here (no retry then). */
  expectedOld?: string;
  /** How many times to redo the merge when the target moved under us (default 5). */
  attempts?: number;
  /** One commit with the target as its only parent (the source's net change), not a merge commit. */
  squash?: boolean;
}

export type MergeIntoRefResult =
  | { status: 'already'; commit: string }
  | { status: 'merged'; commit: string; previous: string }
  | { status: 'conflict'; files: string[]; messages: string[] };

/**
 * Merges `source` into `target` without any working tree or index: `merge-tree --write-tree`,
 * `commit-tree` (a merge commit, or with `squash` one commit whose only parent is the target, so
 * either way the target's first-parent history is one commit per source), then a compare-and-swap
 * `update-ref`. A source already contained gives `already`. Refuses targets checked out in any
 * worktree.
 */
export async function mergeIntoRef(repo: Repo, opts: MergeIntoRefOptions): Promise<MergeIntoRefResult> {
  if (!opts.target.startsWith('refs/')) {
    throw new OrchError(
      'ERR_ORCH_INVALID_REF',
      `target must be a full ref (refs/...), got ${JSON.stringify(opts.target)}`,
    );
  }
  await assertNotCheckedOut(repo, opts.target);
  const src = await repo.revParse(`${opts.source}^{commit}`);
  const attempts = opts.attempts ?? 5;
  for (let i = 1; ; i++) {
    const old = await repo.revParse(`${opts.target}^{commit}`);
    if (opts.expectedOld !== undefined && old !== opts.expectedOld) {
      throw new OrchError('ERR_ORCH_REF_MOVED', `${opts.target} is at ${old}, expected ${opts.expectedOld}`, {
        details: { ref: opts.target, expected: opts.expectedOld, actual: old },
      });
    }
    const made = await commitMerge(repo, {
      onto: old,
      source: src,
      message: opts.message,
      squash: opts.squash ?? false,
    });
    if (made.status === 'already') return { status: 'already', commit: old };
    if (made.status === 'conflict') return made;
    const { commit } = made;
    try {
      await casUpdateRef(repo, opts.target, commit, old, `orch: ${opts.message.split('\n')[0]}`);
      return { status: 'merged', commit, previous: old };
    } catch (e) {
      const moved = isOrchError(e, 'ERR_ORCH_REF_MOVED');
      if (!moved || opts.expectedOld !== undefined || i >= attempts) throw e;
      await sleep(10 * i);
    }
  }
}

export interface CommitMergeOptions {
  /** The commit the new one goes on (its first parent). */
  onto: string;
  source: string;
  message: string;
  /** One parent (`onto`), the source's net change; else a merge commit with `source` second. */
  squash: boolean;
}

export type CommitMergeResult =
  | { status: 'already' }
  | { status: 'made'; commit: string; tree: string }
  | { status: 'conflict'; files: string[]; messages: string[] };

/**
 * The commit `mergeIntoRef` puts on its target for `source`, made (`merge-tree --write-tree` +
 * `commit-tree`) on top of `onto` without moving any ref: a batch of landings is built as a chain
 * of these, checked, and only then published with one compare-and-swap.
 */
export async function commitMerge(repo: Repo, opts: CommitMergeOptions): Promise<CommitMergeResult> {
  const onto = await repo.revParse(`${opts.onto}^{commit}`);
  const src = await repo.revParse(`${opts.source}^{commit}`);
  if (await repo.isAncestor(src, onto)) return { status: 'already' };
  const mt = await repo.git(['merge-tree', '--write-tree', '-z', '--name-only', '--messages', onto, src], {
    reject: false,
  });
  // The exit status, not an empty file list, says whether the merge is clean (git-merge-tree(1)).
  if (mt.exitCode !== 0 && mt.exitCode !== 1) {
    throw new OrchError(
      'ERR_ORCH_MERGE_FAILED',
      `git merge-tree ${onto} ${src} failed: ${mt.stderr.trim()}`,
      {
        details: { stderr: mt.stderr, exitCode: mt.exitCode },
      },
    );
  }
  const { tree, files, messages } = parseMergeTree(mt.stdout);
  if (mt.exitCode === 1) return { status: 'conflict', files, messages };
  const env = await identityEnv(repo.root);
  const parents = opts.squash ? ['-p', onto] : ['-p', onto, '-p', src];
  const commit = (
    await repo.git(['commit-tree', '--no-gpg-sign', tree, ...parents, '-m', opts.message], { env })
  ).stdout.trim();
  return { status: 'made', commit, tree };
}

/** The tree `mergeIntoRef` would commit for `source` onto `onto`, or null when they conflict. */
export async function mergedTree(repo: Repo, onto: string, source: string): Promise<string | null> {
  const mt = await repo.git(['merge-tree', '--write-tree', '-z', '--name-only', onto, source], {
    reject: false,
  });
  if (mt.exitCode !== 0) return null;
  return parseMergeTree(mt.stdout).tree;
}

/**
 * orch's landings (commits with its trailers) on the first-parent history of `tip` back to
 * `since` (excluded), newest first. Only the first-parent line is read: that is the commits orch
 * itself made on the ref; a worker's own commits (second parents) never count.
 */
export async function landingsOn(repo: Repo, tip: string, since: string): Promise<Landing[]> {
  const r = await repo.git(['log', '--first-parent', `--format=${LANDING_LOG_FORMAT}`, tip, `^${since}`]);
  return parseLandings(r.stdout);
}

/** `<tree>\0<conflicted path>\0...\0\0<messages>` (the last part only with --messages). */
function parseMergeTree(out: string): { tree: string; files: string[]; messages: string[] } {
  const blank = out.indexOf('\0\0');
  const head = blank < 0 ? out : out.slice(0, blank + 1);
  const [tree = '', ...files] = splitNul(head);
  const messages: string[] = [];
  if (blank >= 0) {
    // Each message: <count>\0<path>...\0<type>\0<text>\0
    const t = splitNul(out.slice(blank + 2));
    for (let i = 0; i < t.length;) {
      const n = Number(t[i]);
      if (!Number.isInteger(n)) break;
      const text = t[i + n + 2];
      if (text !== undefined) messages.push(text.trim());
      i += n + 3;
    }
  }
  return { tree: tree.trim(), files: [...new Set(files)], messages };
}

export type MergeIntoWorktreeResult = { ok: true; commit: string } | { ok: false; conflicts: string[] };

/**
 * A real `git merge` inside a worktree (used to bring staging into a task branch). On conflict the
 * markers stay for the agent to resolve, unless `abort` is set. Touches only that worktree.
 */
export async function mergeIntoWorktree(
  worktree: string,
  ref: string,
  message: string,
  opts: { abort?: boolean } = {},
): Promise<MergeIntoWorktreeResult> {
  if (ref.startsWith('-')) throw new OrchError('ERR_ORCH_INVALID_REF', `invalid ref ${JSON.stringify(ref)}`);
  const env = await identityEnv(worktree);
  const r = await runGit(['merge', '--no-edit', '--no-verify', '--no-gpg-sign', '-m', message, ref], {
    cwd: worktree,
    env,
    reject: false,
  });
  if (r.exitCode === 0) {
    return { ok: true, commit: (await runGit(['rev-parse', 'HEAD'], { cwd: worktree })).stdout.trim() };
  }
  const u = await runGit(['diff', '--name-only', '-z', '--diff-filter=U'], { cwd: worktree });
  const conflicts = splitNul(u.stdout);
  if (conflicts.length === 0) {
    throw new OrchError(
      'ERR_ORCH_MERGE_FAILED',
      `git merge ${ref} in ${worktree} failed: ${(r.stderr || r.stdout).trim()}`,
      {
        hint: "Commit or discard the worktree's local changes, then merge again.",
        details: { stderr: r.stderr },
      },
    );
  }
  if (opts.abort) await runGit(['merge', '--abort'], { cwd: worktree });
  return { ok: false, conflicts };
}

/**
 * `git merge --ff-only <commit>` in a worktree (the user's, at promotion, after the caller saw it
 * clean). `overwriteIdentical` names untracked files the caller found byte-identical to what the
 * fast-forward writes: git refuses to overwrite untracked files but replaces ignored ones
 * (`--overwrite-ignore`, its default), so for this one command exactly those paths are ignored.
 */
export async function fastForwardCheckout(
  worktreePath: string,
  commit: string,
  opts: { overwriteIdentical?: string[] } = {},
): Promise<string> {
  if (commit.startsWith('-'))
    throw new OrchError('ERR_ORCH_INVALID_REF', `invalid commit ${JSON.stringify(commit)}`);
  const same = opts.overwriteIdentical ?? [];
  const dir = same.length > 0 ? await mkdtemp(join(tmpdir(), 'orch-ff-')) : undefined;
  const config: string[] = [];
  if (dir) {
    const file = join(dir, 'exclude');
    await writeFile(file, same.map(exactExcludePattern).join('\n') + '\n');
    config.push('-c', `core.excludesFile=${file}`);
  }
  const r = await runGit([...config, 'merge', '--ff-only', '--no-edit', commit], {
    cwd: worktreePath,
    reject: false,
  }).finally(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));
  if (r.exitCode !== 0) {
    throw new OrchError(
      'ERR_ORCH_FF_FAILED',
      `cannot fast-forward ${worktreePath} to ${commit}: ${(r.stderr || r.stdout).trim()}`,
      {
        hint: `Resolve it by hand: git -C ${JSON.stringify(worktreePath)} merge --ff-only ${commit}`,
        details: { stderr: r.stderr },
      },
    );
  }
  return (await runGit(['rev-parse', 'HEAD'], { cwd: worktreePath })).stdout.trim();
}

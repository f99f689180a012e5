import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OrchError } from '@orch/core';
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
}

export type MergeIntoRefResult =
  | { status: 'already'; commit: string }
  | { status: 'merged'; commit: string; previous: string }
  | { status: 'conflict'; files: string[]; messages: string[] };

/**
 * Merges `source` into `target` without any working tree or index: `merge-tree --write-tree`,
 * `commit-tree` (always a merge commit, so the target's first-parent history is one merge per
 * source), then a compare-and-swap `update-ref`. Idempotent: a source already contained gives
 * `already`. Refuses targets checked out in any worktree.
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
    if (await repo.isAncestor(src, old)) return { status: 'already', commit: old };
    const mt = await repo.git(['merge-tree', '--write-tree', '-z', '--name-only', '--messages', old, src], {
      reject: false,
    });
    // The exit status, not an empty file list, says whether the merge is clean (git-merge-tree(1)).
    if (mt.exitCode !== 0 && mt.exitCode !== 1) {
      throw new OrchError(
        'ERR_ORCH_MERGE_FAILED',
        `git merge-tree ${opts.target} ${opts.source} failed: ${mt.stderr.trim()}`,
        {
          details: { stderr: mt.stderr, exitCode: mt.exitCode },
        },
      );
    }
    const { tree, files, messages } = parseMergeTree(mt.stdout);
    if (mt.exitCode === 1) return { status: 'conflict', files, messages };
    const env = await identityEnv(repo.root);
    const commit = (
      await repo.git(['commit-tree', '--no-gpg-sign', tree, '-p', old, '-p', src, '-m', opts.message], {
        env,
      })
    ).stdout.trim();
    try {
      await casUpdateRef(repo, opts.target, commit, old, `orch: ${opts.message.split('\n')[0]}`);
      return { status: 'merged', commit, previous: old };
    } catch (e) {
      const moved = e instanceof OrchError && e.code === 'ERR_ORCH_REF_MOVED';
      if (!moved || opts.expectedOld !== undefined || i >= attempts) throw e;
      await sleep(10 * i);
    }
  }
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

import { OrchError, isOrchError } from '@orch/core';
import type { Repo } from './repo.js';
import { retryRaces } from './lock.js';

/** The short branch name of a `refs/heads/...` ref, or null for other refs. */
export function branchOfRef(ref: string): string | null {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : null;
}

/**
 * Moving a checked-out branch with plumbing leaves that worktree's index and files describing the old
 * commit (its status then shows the inverse of the change). Refuse instead.
 */
export async function assertNotCheckedOut(repo: Repo, ref: string): Promise<void> {
  const branch = branchOfRef(ref);
  if (branch === null) return;
  const at = (await repo.checkedOutBranches()).get(branch);
  if (at !== undefined) {
    throw new OrchError(
      'ERR_ORCH_REF_CHECKED_OUT',
      `refusing to move ${branch}: it is checked out at ${at}`,
      {
        hint: `Update it from that worktree instead: git -C ${JSON.stringify(at)} merge --ff-only <commit>`,
        details: { ref, worktree: at },
      },
    );
  }
}

/**
 * Compare-and-swap: sets `ref` to `next` only if it currently is `expectedOld` (null or '' = must not
 * exist). Throws ERR_ORCH_REF_MOVED otherwise. Refuses branches checked out in any worktree.
 */
export async function casUpdateRef(
  repo: Repo,
  ref: string,
  next: string,
  expectedOld: string | null,
  message = 'orch: update',
): Promise<void> {
  if (!ref.startsWith('refs/')) {
    throw new OrchError(
      'ERR_ORCH_INVALID_REF',
      `expected a full ref name (refs/...), got ${JSON.stringify(ref)}`,
    );
  }
  await assertNotCheckedOut(repo, ref);
  const nextOid = await repo.revParse(next);
  const old = expectedOld ?? '';
  await retryRaces(async () => {
    const r = await repo.git(['update-ref', '-m', message, ref, nextOid, old], { reject: false });
    if (r.exitCode === 0) return;
    const actual = await repo.tryRevParse(ref);
    if (actual !== (old === '' ? null : old)) {
      throw new OrchError(
        'ERR_ORCH_REF_MOVED',
        `${ref} moved: expected ${old || '(absent)'}, found ${actual ?? '(absent)'}`,
        {
          details: { ref, expected: old || null, actual },
        },
      );
    }
    // Same value yet refused: a lock held by another git process; retryRaces matches the message.
    throw new OrchError('ERR_ORCH_GIT_FAILED', `update-ref ${ref} failed: ${r.stderr.trim()}`, {
      details: { stderr: r.stderr },
    });
  });
}

export interface ArchiveResult {
  /** The full ref the old tip is kept under. */
  ref: string;
  commit: string;
}

/**
 * Keeps the tip of `branch` under `archiveName` (a branch name, or a full `refs/...` name) before
 * anything replaces it. Never deletes or moves anything: when the name is taken by another commit,
 * `-2`, `-3`, ... is appended. Null when the branch does not exist.
 */
export async function archiveRef(
  repo: Repo,
  branch: string,
  archiveName: string,
): Promise<ArchiveResult | null> {
  const tip = await repo.tryRevParse(`refs/heads/${branch}`);
  if (tip === null) return null;
  return archiveCommit(repo, tip, archiveName, `orch: archive ${branch}`);
}

/**
 * Keeps `commit` under `archiveName` (or `-2`, `-3`, ... when that name holds another commit);
 * an archive that already holds it is reused.
 */
export async function archiveCommit(
  repo: Repo,
  commit: string,
  archiveName: string,
  reason = 'orch: archive',
): Promise<ArchiveResult> {
  const base = archiveName.startsWith('refs/') ? archiveName : `refs/heads/${archiveName}`;
  if (base.startsWith('refs/heads/')) await repo.assertBranchName(base.slice('refs/heads/'.length));
  for (let n = 1; n < 1000; n++) {
    const ref = n === 1 ? base : `${base}-${n}`;
    const cur = await repo.tryRevParse(ref);
    if (cur === commit) return { ref, commit };
    if (cur !== null) continue;
    try {
      await casUpdateRef(repo, ref, commit, null, reason);
      return { ref, commit };
    } catch (e) {
      if (isOrchError(e, 'ERR_ORCH_REF_MOVED')) continue; // taken meanwhile
      throw e;
    }
  }
  throw new OrchError('ERR_ORCH_ARCHIVE', `no free archive name for ${commit.slice(0, 12)} under ${base}`);
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { OrchError } from '@orch/core';
import type { Repo } from './repo.js';
import { identityEnv } from './exec.js';
import { casUpdateRef } from './refs.js';

export interface FileToCommit {
  /** Repository-relative path with forward slashes. */
  path: string;
  content: string | Uint8Array;
  /** Default 100644; 100755 for executables. */
  mode?: '100644' | '100755';
}

export interface CommitFilesOntoOptions {
  branch: string;
  files: FileToCommit[];
  message: string;
  /** Fail with ERR_ORCH_REF_MOVED unless the branch is exactly here. */
  expectedOld?: string;
}

export interface CommitFilesOntoResult {
  /** The branch tip afterwards. */
  commit: string;
  previous: string;
  /** False when the files were already there with that content (no commit made). */
  changed: boolean;
}

/** A repository-relative path that stays inside the repository and out of `.git`. */
export function safeRepoPath(p: string): string {
  const norm = posix.normalize(p.replaceAll('\\', '/'));
  const parts = norm.split('/');
  if (
    p === '' ||
    norm.startsWith('/') ||
    /^[a-zA-Z]:/.test(norm) ||
    parts.includes('..') ||
    norm === '.' ||
    parts.some((s) => s.toLowerCase() === '.git') ||
    /[\0\n]/.test(norm)
  ) {
    throw new OrchError(
      'ERR_ORCH_UNSAFE_PATH',
      `refusing path ${JSON.stringify(p)}: it must stay inside the repository`,
    );
  }
  return norm.replace(/\/$/, '');
}

/**
 * Adds or replaces files in a new commit on top of `branch` without a checkout: a temporary index
 * (GIT_INDEX_FILE) is loaded from the tip, the blobs written, the tree committed, and the branch moved
 * by compare-and-swap. The user's working tree and index are never read or written.
 */
export async function commitFilesOnto(
  repo: Repo,
  opts: CommitFilesOntoOptions,
): Promise<CommitFilesOntoResult> {
  const ref = `refs/heads/${opts.branch}`;
  const previous = await repo.tryRevParse(ref);
  if (previous === null) {
    throw new OrchError('ERR_ORCH_REF_NOT_FOUND', `branch ${opts.branch} does not exist in ${repo.root}`);
  }
  if (opts.expectedOld !== undefined && previous !== opts.expectedOld) {
    throw new OrchError('ERR_ORCH_REF_MOVED', `${ref} is at ${previous}, expected ${opts.expectedOld}`, {
      details: { ref, expected: opts.expectedOld, actual: previous },
    });
  }
  const files = opts.files.map((f) => ({ ...f, path: safeRepoPath(f.path) }));
  const dir = await mkdtemp(join(tmpdir(), 'orch-index-'));
  try {
    const env = { GIT_INDEX_FILE: join(dir, 'index') };
    await repo.git(['read-tree', previous], { env });
    let info = '';
    for (const f of files) {
      const oid = (await repo.git(['hash-object', '-w', '--stdin'], { input: f.content })).stdout.trim();
      info += `${f.mode ?? '100644'} ${oid}\t${f.path}\0`;
    }
    await repo.git(['update-index', '-z', '--index-info'], { env, input: info });
    const tree = (await repo.git(['write-tree'], { env })).stdout.trim();
    if (tree === (await repo.revParse(`${previous}^{tree}`)))
      return { commit: previous, previous, changed: false };
    const ident = await identityEnv(repo.root);
    const commit = (
      await repo.git(['commit-tree', '--no-gpg-sign', tree, '-p', previous, '-m', opts.message], {
        env: ident,
      })
    ).stdout.trim();
    await casUpdateRef(repo, ref, commit, previous, `orch: ${opts.message.split('\n')[0]}`);
    return { commit, previous, changed: true };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

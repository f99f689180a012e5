/**
 * What stands between a checkout and a fast-forward to a commit, path by path, so the caller can
 * tell a real obstacle (the user's own edits) from a file that already holds exactly the new
 * version (for example a plan's contract, untracked in the checkout and committed by orch).
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { changedPaths } from './diff.js';
import { runGit, splitNul } from './exec.js';
import type { Repo } from './repo.js';

export interface CheckoutObstacles {
  /** Tracked paths with uncommitted changes anywhere in the checkout (staged or not). */
  dirty: string[];
  /** The dirty paths the fast-forward changes: git refuses to overwrite them. */
  overlapping: string[];
  /** Untracked or ignored files where the fast-forward adds a file with exactly these bytes and mode. */
  identical: string[];
  /** Untracked or ignored files (or folders) where the fast-forward adds something else. */
  different: { path: string; ignored: boolean }[];
}

/** Compares the checkout at `worktree` (whose HEAD is `from`) with what a fast-forward to `to` writes. */
export async function fastForwardObstacles(
  repo: Repo,
  worktree: string,
  from: string,
  to: string,
): Promise<CheckoutObstacles> {
  const dirty = (await repo.statusPorcelain(worktree))
    .filter((l) => !l.startsWith('??'))
    .map((l) => l.slice(3));
  const changes = await changedPaths(repo, from, to, { perCommit: false });
  const touched = new Set(changes.flatMap((c) => (c.oldPath !== undefined ? [c.oldPath, c.path] : [c.path])));
  const overlapping = dirty.filter((p) => touched.has(p));

  // Paths the fast-forward creates: anything on disk there is not tracked.
  const added = changes
    .filter((c) => c.status === 'A' || c.status === 'R' || c.status === 'C')
    .map((c) => c.path);
  const onDisk: { path: string; regular: boolean; executable: boolean }[] = [];
  for (const path of added) {
    if (!isPlainRelative(path)) continue;
    const st = await lstat(join(worktree, path)).catch((e: NodeJS.ErrnoException) =>
      e.code === 'ENOENT' ? undefined : null,
    );
    if (st === undefined) continue;
    onDisk.push({ path, regular: st?.isFile() === true, executable: ((st?.mode ?? 0) & 0o111) !== 0 });
  }
  if (onDisk.length === 0) return { dirty, overlapping, identical: [], different: [] };

  const wanted = new Map(
    (await repo.lsTree(to)).filter((e) => e.type === 'blob').map((e) => [e.path, e] as const),
  );
  const regular = onDisk.filter((f) => f.regular);
  // --no-filters: the raw bytes on disk, as they are, against the blob the fast-forward writes.
  const hashes =
    regular.length === 0
      ? []
      : (
          await runGit(['hash-object', '--no-filters', '--', ...regular.map((f) => f.path)], {
            cwd: worktree,
          })
        ).stdout.split('\n');
  const hashOf = new Map(regular.map((f, i) => [f.path, hashes[i]?.trim()]));
  const ignored = await ignoredPaths(
    worktree,
    onDisk.map((f) => f.path),
  );
  const identical: string[] = [];
  const different: CheckoutObstacles['different'] = [];
  for (const f of onDisk) {
    const entry = wanted.get(f.path);
    const same =
      f.regular &&
      entry !== undefined &&
      hashOf.get(f.path) === entry.object &&
      (entry.mode === '100755') === f.executable &&
      (entry.mode === '100644' || entry.mode === '100755');
    if (same) identical.push(f.path);
    else different.push({ path: f.path, ignored: ignored.has(f.path) });
  }
  return { dirty, overlapping, identical, different };
}

async function ignoredPaths(worktree: string, paths: string[]): Promise<Set<string>> {
  const r = await runGit(['check-ignore', '-z', '--stdin'], {
    cwd: worktree,
    input: paths.join('\0') + '\0',
    reject: false,
  });
  return new Set(r.exitCode === 0 ? splitNul(r.stdout) : []);
}

/** A repository-relative path with no `..`, no leading `/` and no newline (never leaves the checkout). */
function isPlainRelative(path: string): boolean {
  return path !== '' && !path.startsWith('/') && !/[\n\r]/.test(path) && !path.split('/').includes('..');
}

/** An exclude pattern that matches exactly this one path (gitignore's wildcards escaped). */
export function exactExcludePattern(path: string): string {
  return `/${path.replace(/[\\*?[\] !#]/g, (c) => `\\${c}`)}`;
}

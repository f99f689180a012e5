import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identityEnv, runGit } from './exec.js';
import { retryRaces } from './lock.js';

/**
 * Commits every uncommitted and untracked change in a worktree (ignored files stay out) and returns
 * the new commit, or null when there was nothing to commit. With `paths`, only those paths (taken
 * literally, never as globs) are committed. Hooks are skipped: orch verifies after.
 */
export async function commitLeftovers(
  worktree: string,
  message: string,
  opts: { paths?: readonly string[] } = {},
): Promise<string | null> {
  return retryRaces(async () => {
    if (opts.paths === undefined) await runGit(['add', '-A', '--', '.'], { cwd: worktree });
    else if (opts.paths.length === 0) return null;
    else
      await runGit(['add', '-A', '--pathspec-from-file=-', '--pathspec-file-nul'], {
        cwd: worktree,
        input: opts.paths.join('\0'),
        env: { GIT_LITERAL_PATHSPECS: '1' },
      });
    const staged = await runGit(['diff', '--cached', '--quiet', '--no-ext-diff'], {
      cwd: worktree,
      reject: false,
    });
    if (staged.exitCode === 0) return null;
    const env = await identityEnv(worktree);
    await runGit(['commit', '-q', '--no-verify', '--no-gpg-sign', '-m', message], { cwd: worktree, env });
    return (await runGit(['rev-parse', 'HEAD'], { cwd: worktree })).stdout.trim();
  });
}

/**
 * A commit of a worktree's uncommitted state (tracked changes and untracked files; ignored files
 * stay out) on top of its HEAD, made through a temporary index: the worktree, its index and its
 * HEAD are left exactly as they were. Null when there is nothing uncommitted (or no HEAD yet).
 */
export async function snapshotWorktree(
  worktree: string,
  message: string,
): Promise<{ commit: string; head: string } | null> {
  const head = await runGit(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], {
    cwd: worktree,
    reject: false,
  });
  if (head.exitCode !== 0) return null;
  const status = await runGit(['status', '--porcelain=v1', '-z', '--untracked-files=all'], {
    cwd: worktree,
    env: { GIT_OPTIONAL_LOCKS: '0' },
  });
  if (status.stdout === '') return null;
  const dir = await mkdtemp(join(tmpdir(), 'orch-snapshot-'));
  try {
    const env = { GIT_INDEX_FILE: join(dir, 'index') };
    await runGit(['read-tree', 'HEAD'], { cwd: worktree, env });
    await runGit(['add', '-A', '--', '.'], { cwd: worktree, env });
    const tree = (await runGit(['write-tree'], { cwd: worktree, env })).stdout.trim();
    const commit = await runGit(['commit-tree', tree, '-p', head.stdout.trim(), '-m', message], {
      cwd: worktree,
      env: await identityEnv(worktree),
    });
    return { commit: commit.stdout.trim(), head: head.stdout.trim() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

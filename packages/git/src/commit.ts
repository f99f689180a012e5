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

/**
 * The environment hash of a checkout: its tracked lockfiles, read from its files (a local checkout,
 * hence the local `Repo` rather than the `Repository` port: see worktree.ts).
 */
import { envHashFromFiles, isLockfile } from '@orch/core';
import type { Repo } from '@orch/git';

export async function envHashAt(repo: Repo, dir: string): Promise<string> {
  const tracked = (await repo.git(['ls-files', '-z'], { cwd: dir })).stdout.split('\0');
  return (
    await envHashFromFiles(
      dir,
      tracked.filter((p) => p && isLockfile(p)),
    )
  ).hash;
}

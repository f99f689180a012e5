/** orch's own detached worktree where staging is checked, away from the user's files. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '@orch/core';
import { withRepoLock, type Repo } from '@orch/git';
import { integrationWorktreePath, type RunContext } from '../run/context.js';
import { bootstrapWorktree } from '../worker/bootstrap.js';
import { refreshWorktreeDeps } from '../worker/install.js';

/** Creates (once) and checks out the integration worktree of a run at `commit`. */
export async function checkoutIntegration(
  repo: Repo,
  config: Config,
  run: string,
  commit: string,
): Promise<string> {
  const path = integrationWorktreePath(repo.root, config, run);
  if (!existsSync(join(path, '.git'))) {
    await withRepoLock(repo, async () => {
      await repo.git(['worktree', 'prune']);
      await repo.git(['worktree', 'add', '--detach', '--force', path, commit]);
    });
    await bootstrapWorktree(repo.root, path, config, process.env as Record<string, string>);
  }
  await repo.git(['checkout', '-q', '--detach', '--force', commit], { cwd: path });
  await repo.git(['clean', '-fdq'], { cwd: path });
  // Ignored files survive the checkout: node_modules follows the lockfiles of the new commit.
  await refreshWorktreeDeps(repo.root, path, config, process.env as Record<string, string>);
  return path;
}

export function integrationWorktree(ctx: RunContext, commit: string): Promise<string> {
  return checkoutIntegration(ctx.repo, ctx.config, ctx.run, commit);
}

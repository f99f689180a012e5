/**
 * orch's own detached worktrees, away from the user's files and the workers': where staging is
 * checked (one per run) and where a task's pinned commit is verified (one per task, while it lasts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '@orch/core';
import { listWorktrees, removeWorktree, withRepoLock, type Repo } from '@orch/git';
import { integrationWorktreePath, verifyWorktreePath, type RunContext } from '../run/context.js';
import { bootstrapWorktree } from '../worker/bootstrap.js';
import { refreshWorktreeDeps } from '../worker/install.js';

/** Creates (once) and checks out the integration worktree of a run at `commit`. */
export function checkoutIntegration(
  repo: Repo,
  config: Config,
  run: string,
  commit: string,
): Promise<string> {
  return checkoutDetached(repo, config, integrationWorktreePath(repo.root, config, run), commit);
}

/** A detached worktree at `path` holding exactly `commit` (created and bootstrapped once). */
async function checkoutDetached(repo: Repo, config: Config, path: string, commit: string): Promise<string> {
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

/** A checkout of exactly `commit` for verifying a task: nothing of the worker's worktree is in it. */
export function checkoutForVerify(ctx: RunContext, task: string, commit: string): Promise<string> {
  return checkoutDetached(
    ctx.repo,
    ctx.config,
    verifyWorktreePath(ctx.repoRoot, ctx.config, ctx.run, task),
    commit,
  );
}

export async function removeVerifyCheckout(ctx: RunContext, task: string): Promise<void> {
  const path = verifyWorktreePath(ctx.repoRoot, ctx.config, ctx.run, task);
  if (existsSync(path)) await removeWorktree(ctx.repo, path, { force: true });
}

/** Removes orch's own worktrees (best effort: cleanup never fails a run). */
export async function removeWorktreesOf(repo: Repo, paths: readonly string[]): Promise<void> {
  for (const p of paths) await removeWorktree(repo, p, { force: true }).catch(() => undefined);
}

/** Verification checkouts of a run a stopped supervisor left behind, for cleanup and abort. */
export async function verifyWorktrees(
  ctx: Pick<RunContext, 'repo' | 'repoRoot' | 'config' | 'run'>,
): Promise<string[]> {
  const prefix = verifyWorktreePath(ctx.repoRoot, ctx.config, ctx.run, '');
  return (await listWorktrees(ctx.repo)).map((w) => w.path).filter((p) => p.startsWith(prefix));
}

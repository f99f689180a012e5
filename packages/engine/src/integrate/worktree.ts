/**
 * orch's own detached worktrees, away from the user's files and the workers': where staging is
 * checked (one per run) and where a task's pinned commit is verified (a few per run, one for each
 * verification running at once, reused by incremental checkouts).
 *
 * These stay on the local `Repo`, not the `Repository` port: a checkout is files on the disk where
 * the check command runs (worktree add, checkout, clean, the dependency refresh), which a port on
 * commits and refs cannot serve. A host that checks elsewhere makes its own checkout of the commit.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '@orch/core';
import { listWorktrees, removeWorktree, withRepoLock, type Repo } from '@orch/git';
import { integrationWorktreePath, verifyWorktreePath, type RunContext } from '../run/context.js';
import { bootstrapWorktree } from '../worker/bootstrap.js';
import { refreshWorktreeDeps } from '../worker/install.js';
import { traced } from '@orch/core';

/** Creates (once) and checks out the integration worktree of a run at `commit`. */
export function checkoutIntegration(
  repo: Repo,
  config: Config,
  run: string,
  commit: string,
): Promise<string> {
  return checkoutDetached(repo, config, integrationWorktreePath(repo.root, config, run), commit);
}

/**
 * A detached worktree at `path` holding exactly `commit` (created and bootstrapped once). With
 * `dropIgnored`, files git ignores are removed too, all but the dependency folders the bootstrap
 * made: what an earlier verification built there cannot reach the next one.
 */
async function checkoutDetached(
  repo: Repo,
  config: Config,
  path: string,
  commit: string,
  dropIgnored = false,
): Promise<string> {
  if (!existsSync(join(path, '.git'))) {
    await withRepoLock(repo, async () => {
      await repo.git(['worktree', 'prune']);
      await repo.git(['worktree', 'add', '--detach', '--force', path, commit]);
    });
    await bootstrapWorktree(repo.root, path, config, process.env as Record<string, string>);
  }
  await repo.git(['checkout', '-q', '--detach', '--force', commit], { cwd: path });
  await repo.git(
    dropIgnored ? ['clean', '-ffdxq', ...DEPENDENCY_DIRS.flatMap((d) => ['-e', d])] : ['clean', '-fdq'],
    { cwd: path },
  );
  // Ignored files survive the checkout: node_modules follows the lockfiles of the new commit.
  await refreshWorktreeDeps(repo.root, path, config, process.env as Record<string, string>);
  return path;
}

export function integrationWorktree(ctx: RunContext, commit: string): Promise<string> {
  return checkoutIntegration(ctx.repo, ctx.config, ctx.run, commit);
}

/** A checkout of exactly `commit` for verifying a task: nothing of the worker's worktree is in it. */
/** Folders the bootstrap fills with dependencies: kept across verifications (they follow the lockfiles). */
const DEPENDENCY_DIRS = ['node_modules', '.venv'];

/** Verification checkouts per run: the free ones, and which task holds which. */
const verifySlots = new Map<string, { free: string[]; count: number; held: Map<string, string> }>();

function slotsOf(ctx: RunContext): { free: string[]; count: number; held: Map<string, string> } {
  const key = `${ctx.repoRoot}\0${ctx.run}`;
  let s = verifySlots.get(key);
  if (!s) verifySlots.set(key, (s = { free: [], count: 0, held: new Map() }));
  return s;
}

/**
 * Takes a verification checkout (a free one, or a new one) and checks `commit` out in it. A new
 * worktree per verification cost a full checkout and bootstrap each time; a reused one costs the
 * diff between two commits.
 */
export async function checkoutForVerify(ctx: RunContext, task: string, commit: string): Promise<string> {
  const s = slotsOf(ctx);
  let name = s.held.get(task);
  if (!name) {
    name = s.free.pop() ?? `slot${++s.count}`;
    s.held.set(task, name);
  }
  const path = verifyWorktreePath(ctx.repoRoot, ctx.config, ctx.run, name);
  try {
    return await checkoutDetached(ctx.repo, ctx.config, path, commit, true);
  } catch (e) {
    // A checkout that failed midway is not handed out again.
    s.held.delete(task);
    await removeWorktree(ctx.repo, path, { force: true }).catch(traced('worktree.removeWorktree'));
    throw e;
  }
}

/** Gives a task's verification checkout back for the next verification (removed at the run's end). */
export function releaseVerifyCheckout(ctx: RunContext, task: string): Promise<void> {
  const s = slotsOf(ctx);
  const name = s.held.get(task);
  if (name) {
    s.held.delete(task);
    s.free.push(name);
  }
  return Promise.resolve();
}

/** Removes orch's own worktrees (best effort: cleanup never fails a run). */
export async function removeWorktreesOf(
  repo: Repo,
  paths: readonly string[],
  opts: { deleteLater?: boolean } = {},
): Promise<void> {
  for (const p of paths)
    await removeWorktree(repo, p, { force: true, ...opts }).catch(traced('worktree.removeWorktree'));
}

/** Verification checkouts of a run a stopped supervisor left behind, for cleanup and abort. */
export async function verifyWorktrees(
  ctx: Pick<RunContext, 'repo' | 'repoRoot' | 'config' | 'run'>,
): Promise<string[]> {
  const prefix = verifyWorktreePath(ctx.repoRoot, ctx.config, ctx.run, '');
  return (await listWorktrees(ctx.repo)).map((w) => w.path).filter((p) => p.startsWith(prefix));
}

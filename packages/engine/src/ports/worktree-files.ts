/**
 * The `Workspaces` operations on a git worktree's own files, for the local implementation: what a
 * task's worktree links to, the lock files a killed worker leaves, links a sandboxed worker plants.
 * The `.git` link lives in the agent's worktree: it is followed only into git's own folder.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Repo } from '@orch/git';
import { taskBranch } from '../run/names.js';
import type { WorkspaceGitDirs } from './workspaces.js';

/** A worktree's admin dir from its `.git` link, or undefined when the link points anywhere else. */
export async function worktreeAdminDir(commonDir: string, worktree: string): Promise<string | undefined> {
  const link = await readFile(join(worktree, '.git'), 'utf8').catch(() => '');
  const m = /^gitdir: (.+)$/m.exec(link);
  const dir = m ? resolve(worktree, m[1]!.trim()) : '';
  return dir.startsWith(join(commonDir, 'worktrees') + '/') ? dir : undefined;
}

/** The git folders of a task's worktree in the repository whose common dir is `repo.commonDir`. */
export async function worktreeGitDirs(
  repo: Pick<Repo, 'commonDir'>,
  run: string,
  task: string,
  worktree: string,
): Promise<WorkspaceGitDirs> {
  const branch = taskBranch(run, task);
  return {
    commonDir: repo.commonDir,
    adminDir: await worktreeAdminDir(repo.commonDir, worktree),
    refDir: resolve(repo.commonDir, 'refs', 'heads', branch, '..'),
    logDir: resolve(repo.commonDir, 'logs', 'refs', 'heads', branch, '..'),
  };
}

/** Only called when no worker of the task runs: every later git command in the worktree would fail. */
export async function clearWorktreeLocks(
  repo: Repo,
  run: string,
  task: string,
  worktree: string,
): Promise<string[]> {
  const files = [join(repo.commonDir, 'refs', 'heads', `${taskBranch(run, task)}.lock`)];
  const { adminDir } = await worktreeGitDirs(repo, run, task, worktree);
  if (adminDir) files.push(join(adminDir, 'index.lock'), join(adminDir, 'HEAD.lock'));
  const removed: string[] = [];
  for (const f of files) {
    if (!existsSync(f)) continue;
    await rm(f, { force: true });
    removed.push(f);
  }
  return removed;
}

/**
 * git follows symlinks in the folders a sandboxed worker may write (its ref and reflog folders, its
 * admin dir): a branch ref linked to `refs/heads/main` would make orch's own commit in the worktree
 * move the user's branch, a linked reflog would make git append to any file. orch never makes such
 * links, so each one found is removed (and the caller refuses the task).
 */
export async function removeWorktreeLinks(
  repo: Pick<Repo, 'commonDir'>,
  run: string,
  task: string,
  worktree: string,
): Promise<string[]> {
  const { refDir, logDir, adminDir } = await worktreeGitDirs(repo, run, task, worktree);
  const found: string[] = [];
  for (const dir of [refDir, logDir, ...(adminDir ? [adminDir] : [])]) {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isSymbolicLink()) found.push(join(e.parentPath, e.name));
  }
  for (const f of found) await rm(f, { force: true });
  return found;
}

export function inspectWorktree(path: string): { exists: boolean; checkout: boolean } {
  return { exists: existsSync(path), checkout: existsSync(join(path, '.git')) };
}

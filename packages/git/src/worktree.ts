import { lstat, mkdir, readFile, readdir, realpath, rename, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { Lanes, OrchError } from '@orch/core';
import type { Repo } from './repo.js';
import { runGit } from './exec.js';
import { removeTree, removeTreeLater } from './remove-tree.js';
import { retryRaces, withRepoLock } from './lock.js';
import { parseWorktreeList, type WorktreeInfo } from './worktree-list.js';

export interface AddWorktreeOptions {
  /** Where the worktree goes (absolute, or relative to the repository root). */
  path: string;
  branch: string;
  /** The commit a new branch starts at. */
  commit: string;
  /** Create the worktree locked, so `git worktree prune` and gc never reap it. */
  lockReason?: string;
  /** Use an existing branch wherever it points (e.g. a retry keeps its commits). */
  reuseBranch?: boolean;
}

export interface AddWorktreeResult {
  path: string;
  branch: string;
  /** The commit checked out. */
  head: string;
  /** False when the worktree already existed and was reused as is. */
  created: boolean;
  /** A stray directory with content found at `path`, moved here instead of being deleted. */
  movedAside?: string;
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

async function canonical(p: string): Promise<string> {
  return realpath(p).catch(() => resolve(p));
}

/** Absolute path of a worktree; refuses the repository root and its git directory. */
async function worktreePath(repo: Repo, path: string): Promise<string> {
  const abs = resolve(repo.root, path);
  const inGit = relative(repo.commonDir, abs);
  const insideGitDir = inGit === '' || (!inGit.startsWith('..') && !isAbsolute(inGit));
  if (abs === repo.root || insideGitDir) {
    throw new OrchError('ERR_ORCH_WORKTREE_PATH', `refusing to use ${abs} as a worktree`, {
      hint: 'Worktrees go in their own directory, outside the git directory (e.g. .worktrees/<task>).',
    });
  }
  return abs;
}

export async function listWorktrees(repo: Repo): Promise<WorktreeInfo[]> {
  const r = await repo.git(['worktree', 'list', '--porcelain', '-z']);
  return parseWorktreeList(r.stdout);
}

async function findRegistered(repo: Repo, abs: string): Promise<WorktreeInfo | undefined> {
  const want = await canonical(abs);
  for (const wt of await listWorktrees(repo)) {
    if (wt.path === abs || (await canonical(wt.path)) === want) return wt;
  }
  return undefined;
}

/** A worktree git can work in: its `.git` link leads back to this very directory. */
async function healthy(abs: string): Promise<boolean> {
  if (!(await exists(join(abs, '.git')))) return false;
  const r = await runGit(['rev-parse', '--show-toplevel'], { cwd: abs, reject: false }).catch(() => null);
  return r !== null && r.exitCode === 0 && (await canonical(r.stdout.trim())) === (await canonical(abs));
}

/** Removes a broken worktree's admin directory (named by its `.git` link) when git cannot. */
async function dropAdminDir(repo: Repo, abs: string): Promise<void> {
  const link = await readFile(join(abs, '.git'), 'utf8').catch(() => '');
  const m = /^gitdir: (.+)$/m.exec(link);
  if (!m) return;
  const admin = resolve(abs, m[1]!.trim());
  // Only ever inside <commonDir>/worktrees/.
  if (relative(join(repo.commonDir, 'worktrees'), admin).startsWith('..')) return;
  // Never the admin dir of another, live worktree (a copied directory points at it too).
  const back = (await readFile(join(admin, 'gitdir'), 'utf8').catch(() => '')).trim();
  if (back !== '' && (await canonical(back)) !== (await canonical(join(abs, '.git')))) return;
  await rm(admin, { recursive: true, force: true });
}

/** Drops the registration of a worktree whose directory is gone (locked ones too). */
async function dropRegistration(repo: Repo, wt: WorktreeInfo): Promise<void> {
  if (wt.locked) await repo.git(['worktree', 'unlock', wt.path], { reject: false });
  await repo.git(['worktree', 'prune', '--expire=now']);
}

/**
 * A directory at the worktree's place that git does not know: debris of a crashed `worktree add`.
 * An empty one (or one holding only the `.git` link) is removed; anything else is moved aside.
 */
async function clearStray(abs: string): Promise<string | undefined> {
  const entries = await readdir(abs).catch(() => null);
  if (entries === null) {
    await rm(abs, { force: true }); // a file or a dangling link
    return undefined;
  }
  if (entries.every((e) => e === '.git')) {
    await rm(abs, { recursive: true, force: true });
    return undefined;
  }
  const aside = `${abs}.orphaned-${Date.now()}`;
  await rename(abs, aside);
  return aside;
}

/**
 * Creates `branch` at `commit` and a worktree for it at `path`, serialized with every other worktree
 * and branch change of the repository. Safe to call again after a crash: an existing worktree of that
 * branch is returned as is, a registration without directory is pruned, a stray directory is cleared,
 * and a branch left behind at `commit` (or at any commit with `reuseBranch`) is reused.
 */
export async function addWorktree(repo: Repo, opts: AddWorktreeOptions): Promise<AddWorktreeResult> {
  const result = await registerWorktree(repo, opts);
  // The lock covers only git's bookkeeping (`add --no-checkout` is fast); writing the files, the
  // slow part on a big repository, happens here, in parallel with other worktrees.
  await populate(result.path);
  return result;
}

/** The admin directory's index exists once the files were checked out. */
async function populated(abs: string): Promise<boolean> {
  const r = await runGit(['rev-parse', '--git-path', 'index'], { cwd: abs, reject: false });
  return r.exitCode === 0 && (await exists(resolve(abs, r.stdout.trim())));
}

/**
 * Checks out a worktree created with `--no-checkout`. It never held files, so `reset --hard` cannot
 * lose anything; a worktree that has an index already is left alone.
 */
async function populate(abs: string): Promise<void> {
  if (await populated(abs)) return;
  // Checkouts are disk- and CPU-bound: more at once than cores only makes each one slower.
  await checkoutSlots.run(() => retryRaces(() => runGit(['reset', '--hard', '--quiet'], { cwd: abs })));
}

const checkoutSlots = new Lanes(Math.max(1, availableParallelism()));

async function registerWorktree(repo: Repo, opts: AddWorktreeOptions): Promise<AddWorktreeResult> {
  await repo.assertBranchName(opts.branch);
  if (opts.lockReason?.includes('\n')) {
    throw new OrchError('ERR_ORCH_WORKTREE_LOCK_REASON', 'a worktree lock reason must be one line');
  }
  const abs = await worktreePath(repo, opts.path);
  const commit = await repo.revParse(`${opts.commit}^{commit}`);
  return withRepoLock(repo, () =>
    retryRaces(async () => {
      let movedAside: string | undefined;
      const reg = await findRegistered(repo, abs);
      if (reg) {
        if (!(await healthy(abs))) {
          // Registration without a (complete) directory: forget it, then clear what is left.
          if (await exists(abs)) await dropAdminDir(repo, abs);
          await dropRegistration(repo, reg);
          if (await exists(abs)) movedAside = await clearStray(abs);
        } else if (reg.branch === opts.branch) {
          return { path: abs, branch: opts.branch, head: reg.head, created: false };
        } else {
          throw new OrchError(
            'ERR_ORCH_WORKTREE_EXISTS',
            `${abs} is already a worktree of ${reg.branch ?? `detached ${reg.head}`}, not ${opts.branch}`,
            { hint: 'Remove that worktree first (orch cleans up finished tasks), or pick another path.' },
          );
        }
      } else if (await exists(abs)) {
        await dropAdminDir(repo, abs);
        movedAside = await clearStray(abs);
      }

      const elsewhere = (await listWorktrees(repo)).find((w) => w.branch === opts.branch);
      if (elsewhere) {
        if (await healthy(elsewhere.path)) {
          throw new OrchError(
            'ERR_ORCH_BRANCH_CHECKED_OUT',
            `branch ${opts.branch} is already checked out at ${elsewhere.path}`,
            { hint: 'A branch can be checked out in one worktree only; remove the other worktree first.' },
          );
        }
        await dropRegistration(repo, elsewhere);
      }

      const tip = await repo.tryRevParse(`refs/heads/${opts.branch}`);
      if (tip === null) {
        await repo.createBranch(opts.branch, commit);
      } else if (tip !== commit && !opts.reuseBranch) {
        throw new OrchError(
          'ERR_ORCH_BRANCH_EXISTS',
          `branch ${opts.branch} exists at ${tip.slice(0, 12)}, not at ${commit.slice(0, 12)}`,
          { hint: 'Pass reuseBranch to continue on it, or archive it first.' },
        );
      }
      const lock = opts.lockReason !== undefined ? ['--lock', '--reason', opts.lockReason] : [];
      const r = await repo.git(['worktree', 'add', '--quiet', '--no-checkout', ...lock, abs, opts.branch], {
        reject: false,
      });
      if (r.exitCode !== 0) {
        // Leave nothing half-made for the retry (or the caller) to trip over.
        const half = await findRegistered(repo, abs);
        if (half) await repo.git(['worktree', 'remove', '--force', '--force', abs], { reject: false });
        if (await exists(abs)) await clearStray(abs);
        await repo.git(['worktree', 'prune', '--expire=now'], { reject: false });
        throw new OrchError('ERR_ORCH_WORKTREE_ADD', `git worktree add ${abs} failed: ${r.stderr.trim()}`, {
          details: { stderr: r.stderr },
        });
      }
      const head = (await repo.git(['rev-parse', 'HEAD'], { cwd: abs })).stdout.trim();
      return { path: abs, branch: opts.branch, head, created: true, ...(movedAside ? { movedAside } : {}) };
    }),
  );
}

/**
 * Removes a worktree (and a directory left at its place); false when there was nothing to remove.
 * Without `force`, git refuses a worktree with uncommitted changes. The branch is kept.
 */
export async function removeWorktree(
  repo: Repo,
  path: string,
  opts: {
    force?: boolean;
    /** With `force`: return once git forgot it; its files are deleted in the background. */
    deleteLater?: boolean;
  } = {},
): Promise<boolean> {
  const abs = await worktreePath(repo, path);
  let trash: string | undefined;
  const removed = await withRepoLock(repo, () =>
    retryRaces(async () => {
      const reg = await findRegistered(repo, abs);
      if (!reg) {
        if (!(await exists(abs))) return false;
        if (!opts.force) {
          throw new OrchError('ERR_ORCH_WORKTREE_NOT_FOUND', `${abs} is not a worktree of ${repo.root}`, {
            hint: 'Remove the directory by hand, or pass force.',
          });
        }
        await removeTree(abs);
        return true;
      }
      if (reg.locked) await repo.git(['worktree', 'unlock', reg.path], { reject: false });
      if (opts.force) {
        // Forced removal: move the directory out of the way (instant) and let git forget it under
        // the lock; deleting its files, the slow part, happens after the lock is released.
        trash = join(repo.commonDir, TRASH_DIR, `${Date.now()}-${Math.random().toString(36).slice(2)}`);
        await mkdir(dirname(trash), { recursive: true });
        await rename(reg.path, trash);
        await repo.git(['worktree', 'prune', '--expire=now'], { reject: false });
        return true;
      }
      const r = await repo.git(['worktree', 'remove', reg.path], {
        reject: false,
      });
      if (r.exitCode !== 0) {
        if (reg.locked)
          await repo.git(
            ['worktree', 'lock', ...(reg.lockReason ? ['--reason', reg.lockReason] : []), reg.path],
            { reject: false },
          );
        throw new OrchError(
          'ERR_ORCH_WORKTREE_REMOVE',
          `git worktree remove ${abs} failed: ${r.stderr.trim()}`,
          {
            hint: 'Commit or discard its changes, or remove it with force.',
            details: { stderr: r.stderr },
          },
        );
      }
      await repo.git(['worktree', 'prune', '--expire=now'], { reject: false });
      return true;
    }),
  );
  if (trash && opts.deleteLater) removeTreeLater(trash);
  else if (trash) await removeTree(trash);
  return removed;
}

/** Where force-removed worktrees wait to be deleted (inside the git dir, so never in anyone's way). */
const TRASH_DIR = 'orch-trash';

/** Forgets worktrees whose directories are gone (locked ones are kept, as git does). */
export async function pruneWorktrees(repo: Repo): Promise<void> {
  await withRepoLock(repo, () => retryRaces(() => repo.git(['worktree', 'prune', '--expire=now'])));
  // Files of force-removed worktrees that a crash left undeleted.
  await removeTree(join(repo.commonDir, TRASH_DIR));
}

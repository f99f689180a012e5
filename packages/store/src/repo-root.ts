/**
 * Finding the repository, the one place that does: the main worktree's root (where `.orchestrator/`
 * lives, also from inside a linked worktree), the same with ORCH_ROOT first (what commands use), the
 * top of the checkout that holds a folder (a linked worktree's own root), and the nearest folder with
 * a `.git` without spawning git (for plan checks, which must start fast).
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { OrchError } from '@orch/core/errors';
import { traced } from '@orch/core/debug/trace';

const run = promisify(execFile);

/** git's environment without variables that would point it at another repository (a git hook's). */
function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  for (const k of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY'])
    delete env[k];
  return env;
}

async function git(cwd: string, args: string[]): Promise<string> {
  // No hooks or fsmonitor command, like every git command orch runs (the git package's SAFE_GIT_CONFIG).
  const safe = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false'];
  const { stdout } = await run('git', [...safe, ...args], { cwd, timeout: 15_000, env: gitEnv() });
  return stdout.trim();
}

/** The main worktree's root, also when called from inside a linked worktree. */
export async function findRepoRoot(cwd: string = process.cwd()): Promise<string> {
  let common: string;
  try {
    common = await git(cwd, ['rev-parse', '--git-common-dir']);
  } catch (e) {
    throw new OrchError('ERR_ORCH_NOT_A_REPO', `${cwd} is not inside a git repository`, {
      hint: 'Run orch from your repository (or a worktree of it), or set ORCH_ROOT to the repository root.',
      cause: e,
    });
  }
  const commonDir = isAbsolute(common) ? common : resolve(cwd, common);
  let root: string;
  if (basename(commonDir) === '.git') {
    root = dirname(commonDir);
  } else {
    // Submodules and separate git dirs: the first entry of the worktree list is the main worktree.
    const list = await git(cwd, ['worktree', 'list', '--porcelain']);
    const first = /^worktree (.+)$/m.exec(list)?.[1];
    if (!first) {
      throw new OrchError('ERR_ORCH_NOT_A_REPO', `cannot find the main worktree of ${commonDir}`, {
        hint: 'orch needs a repository with a working tree (not a bare repository).',
      });
    }
    root = first;
  }
  return realpath(root).catch(() => root);
}

/** The repository root from ORCH_ROOT or git (the main worktree, also from a linked worktree). */
export async function resolveRepoRoot(opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  if (env.ORCH_ROOT) {
    const root = isAbsolute(env.ORCH_ROOT) ? env.ORCH_ROOT : resolve(cwd, env.ORCH_ROOT);
    const st = await stat(root).catch(traced('store.repo-root.stat'));
    if (!st?.isDirectory()) {
      throw new OrchError('ERR_ORCH_NOT_A_REPO', `ORCH_ROOT=${env.ORCH_ROOT} is not a directory`, {
        hint: 'Unset ORCH_ROOT, or point it at the repository root.',
      });
    }
    return root;
  }
  return findRepoRoot(cwd);
}

/** The top of the checkout (main or linked worktree) that holds `cwd`; an OrchError outside git. */
export async function checkoutRoot(cwd: string = process.cwd()): Promise<string> {
  try {
    return await git(cwd, ['rev-parse', '--show-toplevel']);
  } catch (e) {
    throw new OrchError('ERR_ORCH_NOT_A_REPO', `${cwd} is not inside a git repository`, {
      hint: 'Run this inside the repository (or a worktree of it).',
      cause: e,
    });
  }
}

/** The nearest folder at or above `start` that holds `.git` (a folder, or a worktree's file); else `start`. */
export function nearestCheckoutRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    try {
      statSync(join(dir, '.git'));
      return dir;
    } catch {
      const up = dirname(dir);
      if (up === dir) return resolve(start);
      dir = up;
    }
  }
}

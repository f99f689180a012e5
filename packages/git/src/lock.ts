import { AsyncLocalStorage } from 'node:async_hooks';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type OrchError, takeLock, traced } from '@orch/core';

/** Structural type so this module does not import Repo (which imports it). */
export interface HasCommonDir {
  commonDir: string;
}

export const LOCK_FILE = 'orch.lock';
const LOCK_TIMEOUT_MS = 120_000;

/** The commonDirs whose lock the current async context holds, so nested calls do not deadlock. */
const held = new AsyncLocalStorage<ReadonlySet<string>>();

/**
 * Serializes worktree add/remove/prune and branch create/delete of one repository: a promise chain for
 * this process plus the file lock `<commonDir>/orch.lock` (@orch/core's, the one file lock) for other
 * processes.
 * Re-entrant within one async call chain.
 */
export class RepoMutex {
  private tail: Promise<unknown> = Promise.resolve();
  readonly lockFile: string;

  constructor(
    readonly commonDir: string,
    private readonly timeoutMs = LOCK_TIMEOUT_MS,
  ) {
    this.lockFile = join(commonDir, LOCK_FILE);
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    const outer = held.getStore();
    if (outer?.has(this.commonDir)) return fn();
    const next = this.tail.then(async () => {
      const lock = await takeLock(this.lockFile, {
        timeoutMs: this.timeoutMs,
        purpose: 'changing worktrees or branches of this repository',
        heldHint: `Another orch process is changing worktrees of this repository. If none is running, delete ${this.lockFile}.`,
      });
      try {
        return await held.run(new Set([...(outer ?? []), this.commonDir]), fn);
      } finally {
        await lock.release();
      }
    });
    this.tail = next.catch(traced('git.lock.chain'));
    return next;
  }
}

const mutexes = new Map<string, RepoMutex>();

/** The process-wide mutex of a repository (one per common git dir). */
export function repoMutex(repo: HasCommonDir): RepoMutex {
  let m = mutexes.get(repo.commonDir);
  if (!m) {
    m = new RepoMutex(repo.commonDir);
    mutexes.set(repo.commonDir, m);
  }
  return m;
}

export function withRepoLock<T>(repo: HasCommonDir, fn: () => Promise<T>): Promise<T> {
  return repoMutex(repo).run(fn);
}

/** git's known transient failures under concurrency (see the worktree and ref-lock races). */
const RACES = [
  /failed to read .*commondir/i,
  /cannot lock ref/i,
  /index\.lock': File exists/i,
  /Unable to create '.*\.lock': File exists/i,
  /unable to create .*\.lock/i,
];

export function isGitRace(message: string): boolean {
  return RACES.some((re) => re.test(message));
}

/** Retries `fn` with jittered backoff while it fails with one of git's known races. */
export async function retryRaces<T>(fn: () => Promise<T>, attempts = 6): Promise<T> {
  let delay = 25;
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      const msg =
        e instanceof Error ? `${e.message} ${String((e as OrchError).details?.stderr ?? '')}` : String(e);
      if (i >= attempts || !isGitRace(msg)) throw e;
      await sleep(delay + Math.random() * delay);
      delay *= 2;
    }
  }
}

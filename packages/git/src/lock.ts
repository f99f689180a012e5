import { AsyncLocalStorage } from 'node:async_hooks';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OrchError } from '@orch/core';

/** Structural type so this module does not import Repo (which imports it). */
export interface HasCommonDir {
  commonDir: string;
}

export const LOCK_FILE = 'orch.lock';
const LOCK_TIMEOUT_MS = 120_000;
/** A lock file with no readable pid younger than this is being written right now; older, it is debris. */
const EMPTY_LOCK_GRACE_MS = 5_000;

/** The commonDirs whose lock the current async context holds, so nested calls do not deadlock. */
const held = new AsyncLocalStorage<ReadonlySet<string>>();
/** Lock files this process holds right now (a file naming our pid but not in here is from a crash). */
const ownFiles = new Set<string>();

function pidAlive(pid: number, file?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return file !== undefined && ownFiles.has(file);
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readPid(file: string): Promise<number | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isNaN(pid) ? null : pid;
}

/**
 * Removes a lock file left by a dead process. It is renamed away first and checked: if another process
 * replaced the stale file in between, the live lock is linked back (link fails when a newer one exists).
 */
async function breakStale(file: string, stalePid: number | null): Promise<void> {
  const aside = `${file}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await rename(file, aside);
  } catch {
    return; // someone else broke or released it
  }
  const pid = await readPid(aside);
  if (pid !== stalePid && pid !== null && pidAlive(pid, file)) await link(aside, file).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

async function acquireFile(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    try {
      const fh = await open(file, 'wx');
      try {
        await fh.writeFile(`${process.pid}\n`);
      } finally {
        await fh.close();
      }
      ownFiles.add(file);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = await readPid(file);
    if (pid !== null && !pidAlive(pid, file)) {
      await breakStale(file, pid);
      continue;
    }
    if (pid === null) {
      const age = await stat(file).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > EMPTY_LOCK_GRACE_MS) {
        await breakStale(file, null);
        continue;
      }
    }
    if (Date.now() > deadline) {
      throw new OrchError(
        'ERR_ORCH_LOCK_TIMEOUT',
        `timed out waiting for ${file} (held by pid ${pid ?? '?'})`,
        {
          hint: `Another orch process is changing worktrees of this repository. If none is running, delete ${file}.`,
        },
      );
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 200);
  }
}

/**
 * Serializes worktree add/remove/prune and branch create/delete of one repository: a promise chain for
 * this process plus `<commonDir>/orch.lock` (O_EXCL, holding our pid) for other processes.
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
      await acquireFile(this.lockFile, this.timeoutMs);
      try {
        return await held.run(new Set([...(outer ?? []), this.commonDir]), fn);
      } finally {
        ownFiles.delete(this.lockFile);
        await unlink(this.lockFile).catch(() => undefined);
      }
    });
    this.tail = next.catch(() => undefined);
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

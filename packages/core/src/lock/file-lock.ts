/**
 * Cross-process locks on plain files, the one lock of orch (run supervisor, context, mailbox, and the
 * repository mutex of @orch/git all take it). The lock file is created with O_EXCL and holds its owner
 * (pid, host, a random token). A waiter breaks a lock whose owner process is gone, or a short lock
 * older than `staleMs`, through a second "breaker" lock so that two waiters never remove each
 * other's fresh lock.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ErrorCode, OrchError } from '../errors.js';

export interface LockOwner {
  pid: number;
  host: string;
  token: string;
  at: string;
  purpose?: string;
}

export interface LockOptions {
  /** How long to wait for the lock before failing (default 10 s; 0 = try once). */
  timeoutMs?: number;
  /** A lock older than this is taken over even if its owner seems alive (default: never). */
  staleMs?: number;
  /** What the lock is for, recorded in the file for whoever finds it. */
  purpose?: string;
  /** Called when a dead or stale owner's lock was broken. */
  onBroken?: (owner: LockOwner | undefined, lockPath: string) => void;
  /** Error code when the lock is held (default ERR_ORCH_LOCK_TIMEOUT). */
  heldCode?: ErrorCode;
  /** The hint of that error (default: wait for the holder, or stop it). */
  heldHint?: string;
}

export interface HeldLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** The previous owner whose dead lock was broken to get this one. */
  readonly broke?: LockOwner | undefined;
  release(): Promise<void>;
}

const HOST = hostname();

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(path: string): Promise<{ owner?: LockOwner; text: string } | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  // A bare pid is how older orch versions wrote the repository lock: an owner on this host.
  if (/^\d+\s*$/.test(text))
    return { owner: { pid: Number(text.trim()), host: HOST, token: '', at: '?' }, text };
  try {
    const owner = JSON.parse(text) as LockOwner;
    if (typeof owner.pid === 'number') return { owner, text };
  } catch {
    // A lock file caught between create and write: judged by its age below.
  }
  return { text };
}

async function tryCreate(path: string, owner: LockOwner): Promise<boolean> {
  try {
    const fh = await open(path, 'wx', 0o644);
    try {
      await fh.writeFile(JSON.stringify(owner));
    } finally {
      await fh.close();
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

async function ageMs(path: string): Promise<number | undefined> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Removes `path` if it still holds exactly `text`, under a breaker lock. True when removed. */
async function breakLock(path: string, text: string): Promise<boolean> {
  const breaker = `${path}.break`;
  const me: LockOwner = { pid: process.pid, host: HOST, token: randomBytes(8).toString('hex'), at: '' };
  if (!(await tryCreate(breaker, me))) {
    // A breaker that died mid-break is itself stale after a few seconds.
    const age = await ageMs(breaker);
    if (age !== undefined && age > 5_000) await rm(breaker, { force: true });
    return false;
  }
  try {
    const now = await readOwner(path);
    if (now?.text !== text) return false;
    await rm(path, { force: true });
    return true;
  } finally {
    await rm(breaker, { force: true });
  }
}

/** Why the current holder may be ignored, or undefined when it must be respected. */
async function isBreakable(path: string, cur: { owner?: LockOwner }, staleMs?: number): Promise<boolean> {
  const age = await ageMs(path);
  if (!cur.owner) return age !== undefined && age > 2_000;
  if (cur.owner.host === HOST && !isProcessAlive(cur.owner.pid)) return true;
  return staleMs !== undefined && age !== undefined && age > staleMs;
}

/**
 * Takes a long-held lock (the supervisor lock of a run) and keeps it until `release()`. By default it
 * does not wait: a lock held by a live process fails at once with ERR_ORCH_RUN_LOCKED; a lock whose
 * owner died is broken (and reported through `onBroken` and `broke`).
 */
export function acquireLock(lockPath: string, opts: LockOptions = {}): Promise<HeldLock> {
  return takeLock(lockPath, { timeoutMs: 0, heldCode: 'ERR_ORCH_RUN_LOCKED', ...opts });
}

/** Takes a lock, waiting up to `timeoutMs` (default 10 s); the caller must `release()` it. */
export async function takeLock(lockPath: string, opts: LockOptions): Promise<HeldLock> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  await mkdir(dirname(lockPath), { recursive: true });
  const owner: LockOwner = {
    pid: process.pid,
    host: HOST,
    token: randomBytes(8).toString('hex'),
    at: new Date().toISOString(),
    ...(opts.purpose ? { purpose: opts.purpose } : {}),
  };
  let broke: LockOwner | undefined;
  let delay = 2;
  for (;;) {
    if (await tryCreate(lockPath, owner)) break;
    const cur = await readOwner(lockPath);
    if (cur === undefined) continue; // released in between: try again at once
    if (await isBreakable(lockPath, cur, opts.staleMs)) {
      if (await breakLock(lockPath, cur.text)) {
        broke = cur.owner;
        opts.onBroken?.(cur.owner, lockPath);
        continue;
      }
    }
    if (Date.now() >= deadline) {
      const who = cur.owner
        ? `process ${cur.owner.pid} on ${cur.owner.host} since ${cur.owner.at}`
        : 'another process';
      throw new OrchError(opts.heldCode ?? 'ERR_ORCH_LOCK_TIMEOUT', `${lockPath} is held by ${who}`, {
        hint:
          opts.heldHint ??
          (cur.owner?.purpose
            ? `It is held for: ${cur.owner.purpose}. Wait for it to finish, or stop that process.`
            : 'Wait for the other orch process to finish, or stop it.'),
        details: { lockPath, ...(cur.owner ? { owner: cur.owner } : {}) },
      });
    }
    // Jittered backoff: short waits first (most locks are held for milliseconds), capped at 50 ms.
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())) * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 50);
  }
  let released = false;
  return {
    path: lockPath,
    owner,
    broke,
    async release() {
      if (released) return;
      released = true;
      const cur = await readOwner(lockPath);
      // Only remove our own lock: a stale-breaker may have handed it to someone else.
      if (cur?.owner?.token === owner.token) await rm(lockPath, { force: true });
    },
  };
}

/** Runs `fn` while holding a short lock (default: wait 10 s, a lock older than 60 s is stale). */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T> | T,
  opts: LockOptions = {},
): Promise<T> {
  const lock = await takeLock(lockPath, { staleMs: 60_000, ...opts });
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

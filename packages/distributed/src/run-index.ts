/**
 * What a machine other than the supervisor's reads to find a run in the store: the runs it holds
 * (newest first, from the sorted set the supervisor adds each run to at its start), whether a run is
 * there at all, its frozen plan, and who holds its supervisor lease.
 */
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

export interface StoreRun {
  run: string;
  /** When its supervisor registered it (ms since the epoch). */
  startedAt: number;
}

/** The runs of the store, newest first. */
export async function storeRuns(redis: Redis, keys: Keys, limit = 100): Promise<StoreRun[]> {
  const flat = await redis.zrevrange(keys.runs(), 0, Math.max(0, limit - 1), 'WITHSCORES');
  const out: StoreRun[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ run: flat[i]!, startedAt: Number(flat[i + 1]) });
  return out;
}

/** The newest run of the store, if any. */
export async function latestStoreRun(redis: Redis, keys: Keys): Promise<string | undefined> {
  return (await storeRuns(redis, keys, 1))[0]?.run;
}

/** The store holds `run`: it is registered, or its log has entries. */
export async function storeHasRun(redis: Redis, keys: Keys, run: string): Promise<boolean> {
  const [score, len] = await Promise.all([redis.zscore(keys.runs(), run), redis.xlen(keys.events(run))]);
  return score !== null || len > 0;
}

/** The plan's YAML as the run's supervisor froze it; undefined when it did not store one. */
export async function storedPlan(redis: Redis, keys: Keys, run: string): Promise<string | undefined> {
  return (await redis.get(keys.plan(run))) ?? undefined;
}

export interface LeaseHolder {
  holder: string;
  since?: string;
  msLeft: number;
}

/** Who supervises `run` now (its lease is live), or undefined when nobody does. */
export async function leaseHolder(redis: Redis, keys: Keys, run: string): Promise<LeaseHolder | undefined> {
  const key = keys.lease(run);
  const [value, left] = await Promise.all([redis.get(key), redis.pttl(key)]);
  if (value === null) return undefined;
  let parsed: { holder?: unknown; since?: unknown } = {};
  try {
    parsed = JSON.parse(value) as typeof parsed;
  } catch {
    // a value orch did not write: still a holder
  }
  return {
    holder: typeof parsed.holder === 'string' ? parsed.holder : 'another supervisor',
    ...(typeof parsed.since === 'string' ? { since: parsed.since } : {}),
    msLeft: Math.max(0, left),
  };
}

/**
 * Where each task's current attempt runs: the host in its worker record (the worker is named by the
 * task's session), by task id; tasks without a record (not started, or forgotten) are left out.
 */
export async function workerHosts(
  redis: Redis,
  keys: Keys,
  run: string,
  tasks: readonly { id: string; session?: string | undefined }[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const named = tasks.filter((t): t is { id: string; session: string } => !!t.session);
  if (named.length === 0) return out;
  const tx = redis.multi();
  for (const t of named) tx.hget(keys.worker(run, t.session), 'host');
  const got = (await tx.exec()) ?? [];
  named.forEach((t, i) => {
    const host = got[i]?.[1];
    if (typeof host === 'string' && host !== '') out.set(t.id, host);
  });
  return out;
}

/** The last `lines` lines of a worker's output, as its host streams them to the store. */
export async function workerOutputTail(
  redis: Redis,
  keys: Keys,
  run: string,
  worker: string,
  lines: number,
): Promise<string[]> {
  const text = (await redis.get(keys.workerTail(run, worker))) ?? '';
  return text === '' ? [] : text.replace(/\n+$/, '').split('\n').slice(-lines);
}

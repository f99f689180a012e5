/** The hosts serving a store, from their heartbeat records (a host whose record expired is gone). */
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

export interface HostInfo {
  name: string;
  slots: number;
  /** Attempts running on it now. */
  active: number;
  startedAt: string;
  /** Milliseconds since its last heartbeat. */
  heartbeatAgeMs: number;
  /** Its public identity (`orch host --identity`), as it publishes it. */
  identity?: string;
  /** Why it last gave a job back (a run that does not trust it, another remote). */
  gaveBack?: string;
}

export async function listHosts(redis: Redis, keys: Keys, now = Date.now()): Promise<HostInfo[]> {
  const out: HostInfo[] = [];
  for (const name of (await redis.smembers(keys.hosts())).sort()) {
    let h: Record<string, string>;
    try {
      h = await redis.hgetall(keys.host(name));
    } catch {
      continue;
    }
    if (!h.beatAt) {
      // Its record expired: the host stopped beating; only the name was left, and now not that.
      await redis.srem(keys.hosts(), name);
      continue;
    }
    out.push({
      name,
      slots: Number(h.slots ?? 0),
      active: Number(h.active ?? 0),
      startedAt: h.startedAt ?? '',
      heartbeatAgeMs: Math.max(0, now - Number(h.beatAt)),
      ...(h.identity ? { identity: h.identity } : {}),
      ...(h.gaveBack ? { gaveBack: h.gaveBack } : {}),
    });
  }
  return out;
}

/**
 * A rate limit every host shares: when an agent's API says slow down (an attempt ended with a rate
 * limit), the host that saw it records "hold back `agent` until T" in Redis, and every host waits
 * for T before it starts another attempt of that agent. One key per agent with the time as its
 * value and its expiry, so a limit nobody renews simply lapses. A later report only ever pushes T
 * further out (the set is one script), so two hosts reporting at once keep the later time.
 */
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** KEYS: the agent's key. ARGV: until (ms since the epoch). Returns the time in force. */
const SLOW_DOWN = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local want = tonumber(ARGV[1])
if cur >= want then return tostring(cur) end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1])
return ARGV[1]
`;

/** When an API gives no reset time: hold back this long. */
export const DEFAULT_SLOW_DOWN_MS = 60_000;
/** Longest hold an API's reset time may ask for (a bad or hostile value must not stop a run for days). */
export const MAX_SLOW_DOWN_MS = 6 * 3600_000;
const POLL_MS = 1_000;

export interface RateLimitReport {
  /** The agent's own reset time (ISO 8601), if it said one. */
  resetAt?: string;
}

export class SharedRateLimit {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records that `agent`'s API said slow down; returns until when (ms since the epoch) every host
   * holds back. The reset time is clamped to between now and MAX_SLOW_DOWN_MS from now.
   */
  async slowDown(agent: string, report: RateLimitReport = {}): Promise<number> {
    const now = this.now();
    const asked = report.resetAt !== undefined ? Date.parse(report.resetAt) : Number.NaN;
    const until = Number.isFinite(asked)
      ? Math.min(now + MAX_SLOW_DOWN_MS, Math.max(now + 1, asked))
      : now + DEFAULT_SLOW_DOWN_MS;
    const key = this.keys.rateLimit(agent);
    return Number(await this.redis.eval(SLOW_DOWN, 1, key, String(Math.ceil(until))));
  }

  /** Milliseconds until `agent` may start again; 0 when it may now. */
  async heldFor(agent: string): Promise<number> {
    const until = Number((await this.redis.get(this.keys.rateLimit(agent))) ?? 0);
    return Math.max(0, until - this.now());
  }

  /** Lifts the hold on `agent` (the person knows the limit is gone). */
  async clear(agent: string): Promise<void> {
    await this.redis.del(this.keys.rateLimit(agent));
  }

  /**
   * Resolves once `agent` may start an attempt (at once when no host reported a limit); re-reads the
   * key while waiting, so a limit lifted or pushed out by another host counts. False when `signal`
   * aborted first.
   */
  async waitUntilAllowed(agent: string, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    for (;;) {
      if (opts.signal?.aborted) return false;
      const left = await this.heldFor(agent);
      if (left <= 0) return true;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.min(left, POLL_MS));
        function done(): void {
          clearTimeout(t);
          opts.signal?.removeEventListener('abort', done);
          resolve();
        }
        opts.signal?.addEventListener('abort', done, { once: true });
        // Aborted while the key was read: no event comes any more.
        if (opts.signal?.aborted) done();
      });
    }
  }
}

/**
 * What a host's attempt loop calls around one attempt of `agent`: waits while the shared limit
 * holds, runs the attempt, and when its result says the API asked to slow down, records it for
 * every host. Returns the attempt's result; throws the signal's reason, without running the
 * attempt, when `signal` aborted the wait.
 */
export async function withSharedRateLimit<T>(
  limit: SharedRateLimit,
  agent: string,
  attempt: () => Promise<T>,
  rateLimitOf: (result: T) => RateLimitReport | undefined,
  opts: { signal?: AbortSignal } = {},
): Promise<T> {
  // Given up on while waiting (the attempt was canceled): it does not run.
  if (!(await limit.waitUntilAllowed(agent, opts))) opts.signal?.throwIfAborted();
  const result = await attempt();
  const said = rateLimitOf(result);
  if (said) await limit.slowDown(agent, said);
  return result;
}

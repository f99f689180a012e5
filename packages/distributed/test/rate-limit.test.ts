import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redisForFile } from './redis-store.js';
import { keysFor } from '../src/keys.js';
import {
  DEFAULT_SLOW_DOWN_MS,
  MAX_SLOW_DOWN_MS,
  SharedRateLimit,
  withSharedRateLimit,
} from '../src/rate-limit.js';

const { connect } = redisForFile();

describe('the rate limit every host shares', () => {
  it('a limit one host reports holds back the others until it passes', async () => {
    const keys = keysFor(`rl${randomBytes(3).toString('hex')}`);
    const hostA = new SharedRateLimit(await connect(), keys);
    const hostB = new SharedRateLimit(await connect(), keys);
    expect(await hostB.heldFor('claude')).toBe(0);
    await hostA.slowDown('claude', { resetAt: new Date(Date.now() + 400).toISOString() });
    expect(await hostB.heldFor('claude')).toBeGreaterThan(0);
    // Another agent's API is not held back.
    expect(await hostB.heldFor('codex')).toBe(0);
    expect(await hostB.waitUntilAllowed('claude')).toBe(true);
    expect(await hostB.heldFor('claude')).toBe(0);
    // The key expires with the limit: nothing is left in Redis.
    expect(await (await connect()).exists(keys.rateLimit('claude'))).toBe(0);
  });

  it('keeps the later of two reports, clamps what an API asks for, and waits 60 s when it says no time', async () => {
    const keys = keysFor(`rl${randomBytes(3).toString('hex')}`);
    const now = Date.now();
    const limit = new SharedRateLimit(await connect(), keys, () => now);
    const later = await limit.slowDown('claude', { resetAt: new Date(now + 120_000).toISOString() });
    expect(later).toBe(now + 120_000);
    expect(await limit.slowDown('claude', { resetAt: new Date(now + 5_000).toISOString() })).toBe(later);
    expect(await limit.heldFor('claude')).toBe(120_000);
    expect(await limit.slowDown('hostile', { resetAt: '2999-01-01T00:00:00Z' })).toBe(now + MAX_SLOW_DOWN_MS);
    expect(await limit.slowDown('vague', {})).toBe(now + DEFAULT_SLOW_DOWN_MS);
    expect(await limit.slowDown('garbled', { resetAt: 'soon' })).toBe(now + DEFAULT_SLOW_DOWN_MS);
    await limit.clear('claude');
    expect(await limit.heldFor('claude')).toBe(0);
  });

  it('a wait ends when its signal aborts', async () => {
    const keys = keysFor(`rl${randomBytes(3).toString('hex')}`);
    const limit = new SharedRateLimit(await connect(), keys);
    await limit.slowDown('claude', {});
    const ac = new AbortController();
    const waiting = limit.waitUntilAllowed('claude', { signal: ac.signal });
    ac.abort();
    expect(await waiting).toBe(false);
  });

  it('withSharedRateLimit records the limit an attempt ran into, for every host', async () => {
    const keys = keysFor(`rl${randomBytes(3).toString('hex')}`);
    const limit = new SharedRateLimit(await connect(), keys);
    const resetAt = new Date(Date.now() + 90_000).toISOString();
    const result = await withSharedRateLimit(
      limit,
      'claude',
      async () => ({ exitCode: 1, rateLimit: { message: 'slow down', resetAt } }),
      (r) => r.rateLimit,
    );
    expect(result.exitCode).toBe(1);
    const other = new SharedRateLimit(await connect(), keys);
    expect(await other.heldFor('claude')).toBeGreaterThan(60_000);
    // An attempt that ran into nothing leaves no limit behind.
    await other.clear('claude');
    await withSharedRateLimit(
      other,
      'claude',
      async () => ({ exitCode: 0 }),
      () => undefined,
    );
    expect(await other.heldFor('claude')).toBe(0);
  });
});

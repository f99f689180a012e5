import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '@orch/core';
import { runStarted } from '@orch/test-utils';
import { connectStore, parseStoreUrl, storeFromUrl } from '../src/connection.js';
import { keysFor } from '../src/keys.js';
import { redisForFile } from './redis-store.js';
import { SupervisorLease } from '../src/lease.js';
import { RedisRunLog } from '../src/run-log.js';

const redis = redisForFile();
const connect = redis.connect;

const fresh = (): string => `r${randomBytes(4).toString('hex')}`;

describe('the store URL and password', () => {
  it('reads redis://HOST:PORT/DB and refuses a password in the URL without echoing it', () => {
    expect(parseStoreUrl('redis://127.0.0.1:6390/3')).toEqual({
      host: '127.0.0.1',
      port: 6390,
      db: 3,
      tls: false,
    });
    expect(parseStoreUrl('rediss://127.0.0.1')).toMatchObject({ port: 6379, db: 0, tls: true });
    let err: unknown;
    try {
      parseStoreUrl('redis://:s3cret@127.0.0.1:6379/0');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ERR_ORCH_STORE_URL' });
    expect((err as Error).message).not.toContain('s3cret');
    expect(() => parseStoreUrl('http://127.0.0.1/0')).toThrow(/scheme/);
  });

  it('a wrong password is a clear ERR_ORCH_STORE_UNREACHABLE', async () => {
    const store = await storeFromUrl(redis.url, { ORCH_REDIS_PASSWORD: 'wrong' });
    await expect(connectStore(store)).rejects.toMatchObject({ code: 'ERR_ORCH_STORE_UNREACHABLE' });
  });
});

describe('RedisRunLog', () => {
  it('appends under the lease; a second connection refreshes and follows the same events', async () => {
    const keys = keysFor('t1');
    const run = fresh();
    const a = await connect();
    const lease = await SupervisorLease.acquire(a, keys, run, { ttlMs: 5_000 });
    const key = randomBytes(32);
    const writer = new RedisRunLog(a, keys, run, { lease, key });
    await writer.append(runStarted(['x', 'y'], { run }));

    const b = await connect();
    const reader = new RedisRunLog(b, keys, run, { key });
    await reader.refresh();
    expect(reader.state?.order).toEqual(['x', 'y']);

    const seen: RunEvent[] = [];
    reader.subscribe((evs) => seen.push(...evs));
    reader.follow();
    await writer.append({ type: 'task.ready', task: 'x' });
    const deadline = Date.now() + 10_000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    reader.close();
    expect(seen.map((e) => e.type)).toEqual(['task.ready']);
    expect(reader.state?.tasks['x']?.status).toBe('ready');
    expect((await reader.history()).map((e) => e.type)).toEqual(['run.started', 'task.ready']);

    // Without the lease a process only reads; an entry not signed with the run's key is skipped.
    await expect(reader.append({ type: 'task.ready', task: 'y' })).rejects.toMatchObject({
      code: 'ERR_ORCH_SUPERVISOR_LEASE',
    });
    await b.xadd(
      keys.events(run),
      '*',
      'e',
      JSON.stringify({ type: 'task.ready', task: 'y', ts: new Date().toISOString() }),
    );
    await reader.refresh();
    expect(reader.state?.tasks['y']?.status).toBe('pending');
    expect(reader.skipped).toBe(1);
    await lease.release();
  });

  it('refuses an illegal transition and writes nothing', async () => {
    const keys = keysFor('t2');
    const run = fresh();
    const a = await connect();
    const lease = await SupervisorLease.acquire(a, keys, run, { ttlMs: 5_000 });
    const log = new RedisRunLog(a, keys, run, { lease });
    await log.append(runStarted(['x'], { run }));
    await expect(log.append({ type: 'task.reset', task: 'x', reason: 'r' })).rejects.toMatchObject({
      code: 'ERR_ORCH_ILLEGAL_TRANSITION',
    });
    expect(await a.xlen(keys.events(run))).toBe(1);
    await lease.release();
  });
});

describe('the supervisor lease', () => {
  it('excludes a second supervisor, and is taken over once the holder died and it expired', async () => {
    const keys = keysFor('t3');
    const run = fresh();
    const first = await connect();
    const lease = await SupervisorLease.acquire(first, keys, run, { ttlMs: 2_000, holder: 'host-a:1' });
    const second = await connect();
    const refused = await SupervisorLease.acquire(second, keys, run, { ttlMs: 600 }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'ERR_ORCH_SUPERVISOR_LEASE' });
    expect((refused as Error).message).toContain('host-a:1');

    // The holder keeps renewing past its time-to-live while it lives.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await second.exists(keys.lease(run))).toBe(1);

    // The holder dies: its connection is gone, its renewals fail, the key expires.
    first.disconnect();
    const deadline = Date.now() + 10_000;
    let taken: SupervisorLease | undefined;
    while (!taken && Date.now() < deadline) {
      taken = await SupervisorLease.acquire(second, keys, run, { ttlMs: 600, holder: 'host-b:2' }).catch(
        () => undefined,
      );
      if (!taken) await new Promise((r) => setTimeout(r, 100));
    }
    expect(taken?.held).toBe(true);
    // The dead holder's own view: its renewals failed past the time-to-live, so it counts the lease lost.
    expect(lease.held).toBe(false);
    // The old holder, back on the network, finds the lease another's and cannot append.
    const revived = await connect();
    const stale = new RedisRunLog(revived, keys, run, {
      lease: Object.create(lease, { held: { value: true } }),
    });
    await expect(stale.append(runStarted(['x'], { run }))).rejects.toMatchObject({
      code: 'ERR_ORCH_SUPERVISOR_LEASE',
    });
    await taken?.release();
    expect(await second.exists(keys.lease(run))).toBe(0);
  });
});

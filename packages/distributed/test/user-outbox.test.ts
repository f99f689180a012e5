import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxItem } from '@orch/core';
import { startRedis, type RedisFixture } from '@orch/test-utils';
import type { Redis } from 'ioredis';
import { connectStore, storeFromUrl } from '../src/connection.js';
import { keysFor } from '../src/keys.js';
import { RedisUserOutbox, type UserOutboxEntry } from '../src/user-outbox.js';

let redis: RedisFixture;
const conns: Redis[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of conns) c.disconnect();
  await redis.stop();
});

async function connect(): Promise<Redis> {
  const c = await connectStore(await storeFromUrl(redis.url, { ORCH_REDIS_PASSWORD: redis.password }));
  conns.push(c);
  return c;
}

const item = (id: string): OutboxItem => ({
  v: 1,
  id,
  task: 'a',
  token: 't'.repeat(64),
  ack: true,
  body: { kind: 'progress', message: 'halfway' },
});

describe("the user's outbox in the store", () => {
  it('hands items to the supervisor in order, answers the sender, and keeps an entry until it was handled', async () => {
    const keys = keysFor('uo');
    const run = `r${randomBytes(4).toString('hex')}`;
    const user = new RedisUserOutbox(await connect(), keys, run);
    const sup = new RedisUserOutbox(await connect(), keys, run);
    await user.drop(item('item-0001'));
    await user.drop(item('item-0002'));
    // Someone with the store's password writes garbage: the supervisor is told, it is not an item.
    await (await connect()).xadd(keys.userOutbox(run), '*', 'i', '{"v":1,"id":"../x"}');

    // A supervisor that dies while handling the first leaves every entry in place.
    await expect(
      sup.take(async () => {
        throw new Error('killed');
      }),
    ).rejects.toThrow('killed');
    expect(await (await connect()).xlen(keys.userOutbox(run))).toBe(3);

    const seen: UserOutboxEntry[] = [];
    const answering = user.waitForAck('item-0002', 5_000);
    expect(
      await sup.take(async (e) => {
        seen.push(e);
        return e.ok ? { id: e.item.id, ok: true, detail: `recorded ${e.item.id}` } : undefined;
      }),
    ).toBe(3);
    expect(seen.map((e) => (e.ok ? e.item.id : 'refused'))).toEqual(['item-0001', 'item-0002', 'refused']);
    expect(await answering).toEqual({ id: 'item-0002', ok: true, detail: 'recorded item-0002' });
    expect(await (await connect()).xlen(keys.userOutbox(run))).toBe(0);
    // Nobody answers: the wait ends at its time limit.
    expect(await user.waitForAck('item-0003', 100)).toBeUndefined();
  });

  it('refuses to send what is not an item', async () => {
    const user = new RedisUserOutbox(await connect(), keysFor('uo2'), 'r1');
    await expect(user.drop({ ...item('x'), id: 'no' } as OutboxItem)).rejects.toThrow();
  });
});

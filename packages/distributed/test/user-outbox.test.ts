import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { OutboxItem } from '@orch/core';
import { redisForFile } from './redis-store.js';
import { keysFor } from '../src/keys.js';
import { RedisMailbox } from '../src/mailbox.js';
import { SupervisorLease } from '../src/lease.js';
import { RedisRunLog } from '../src/run-log.js';
import { RedisUserOutbox, serveUserOutbox, type UserOutboxEntry } from '../src/user-outbox.js';
import { runStarted } from '@orch/test-utils';
import { userToken } from '@orch/store';

const { connect } = redisForFile();

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

describe('serveUserOutbox (the supervisor side)', () => {
  it('journals an item with the user token, refuses one without it, and records a repeat once', async () => {
    const keys = keysFor('uo3');
    const run = `r${randomBytes(4).toString('hex')}`;
    const a = await connect();
    const key = randomBytes(32);
    const lease = await SupervisorLease.acquire(a, keys, run, { ttlMs: 5_000 });
    const log = new RedisRunLog(a, keys, run, { lease, key });
    await log.append(runStarted(['a'], { run }));
    await log.append({ type: 'task.ready', task: 'a' });
    await log.append({
      type: 'task.started',
      task: 'a',
      attempt: 1,
      session: 's-a',
      agent: 'shell',
      promptPath: 'p',
      logPath: 'l',
    });
    const user = new RedisUserOutbox(await connect(), keys, run);
    const good = { ...item('item-0010'), token: userToken(key) };
    await user.drop(good);
    await user.drop(good);
    await user.drop({ ...item('item-0011'), token: 'f'.repeat(64) });
    const refused: string[] = [];
    const opts = {
      key,
      state: () => log.state!,
      append: (ev: Parameters<typeof log.append>[0]) => log.append(ev),
      mailbox: new RedisMailbox(a, keys, run, { tasks: ['a'] }),
      seen: new Set<string>(),
      onRefused: async (reason: string) => void refused.push(reason),
    };
    expect(await serveUserOutbox(new RedisUserOutbox(a, keys, run), opts)).toBe(3);
    const events = (await log.history()).filter((e) => e.type === 'task.progress');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ task: 'a', message: 'halfway', item: 'item-0010' });
    expect(refused).toEqual(['the token is not the user token']);
    expect(await user.waitForAck('item-0011', 1_000)).toMatchObject({ ok: false });
    await lease.release();
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MailboxMessage } from '@orch/core';
import { redisForFile } from './redis-store.js';
import { RedisContextStore } from '../src/context.js';
import { keysFor } from '../src/keys.js';
import { RedisMailbox } from '../src/mailbox.js';

const { connect } = redisForFile();

const fresh = (): string => `r${randomBytes(4).toString('hex')}`;

describe('RedisMailbox', () => {
  it('delivers to an inbox once, broadcasts to all but the sender, and keeps one history', async () => {
    const keys = keysFor('m1');
    const run = fresh();
    const box = new RedisMailbox(await connect(), keys, run, { tasks: ['a', 'b'] });
    await box.send('b', 'first', { from: 'a' });
    await box.send('all', { type: 'interface-changed', body: 'moved', target: 'src/api.ts' }, { from: 'a' });
    // Another machine's process reads the same inbox.
    const other = new RedisMailbox(await connect(), keys, run, { tasks: ['a', 'b'] });
    expect(await other.peek('b')).toBe(2);
    expect(await other.peek('a')).toBe(0);
    expect((await other.check('b')).map((m) => m.body)).toEqual(['first', 'moved']);
    expect(await box.peek('b')).toBe(0);
    expect(await box.peek('supervisor')).toBe(1);
    expect((await box.history()).map((m) => m.to)).toEqual(['b', 'all']);
    await expect(box.send('nobody', 'x', { from: 'a' })).rejects.toMatchObject({
      code: 'ERR_ORCH_UNKNOWN_RECIPIENT',
    });
    // A repeat of a message with a given id (the supervisor's outbox item) is delivered once.
    await box.send('a', 'once', { from: 'supervisor', id: 'outbox-1' });
    await box.send('a', 'once', { from: 'supervisor', id: 'outbox-1' });
    expect(await box.peek('a')).toBe(1);
  });

  it('redelivers a batch whose reader died before it acked', async () => {
    const keys = keysFor('m2');
    const run = fresh();
    const box = new RedisMailbox(await connect(), keys, run, { tasks: ['a'] });
    await box.send('a', 'one', { from: 'supervisor' });
    await box.send('a', 'two', { from: 'supervisor' });
    const got: string[] = [];
    // The reader fails while handing the second batch on: that one is not acked.
    await expect(
      box.deliverUnread(
        'a',
        async (batch) => {
          if (batch[0]?.body === 'two') throw new Error('reader died');
          got.push(...batch.map((m) => m.body));
        },
        { batch: 1 },
      ),
    ).rejects.toThrow('reader died');
    expect(got).toEqual(['one']);
    // Its entry stays pending in the group; the next reader, on another connection, gets it.
    const pending = await box.unread('a');
    expect(pending.map((m) => m.body)).toEqual(['two']);
    const next = new RedisMailbox(await connect(), keys, run, { tasks: ['a'] });
    expect((await next.check('a')).map((m) => m.body)).toEqual(['two']);
    expect(await next.peek('a')).toBe(0);
  });

  it('marks read by id, and watch yields new messages as they arrive', async () => {
    const keys = keysFor('m3');
    const run = fresh();
    const box = new RedisMailbox(await connect(), keys, run, { tasks: ['a'] });
    const m1 = await box.send('a', 'seen', { from: 'supervisor' });
    await box.send('a', 'kept', { from: 'supervisor' });
    await box.markRead('a', [m1.id]);
    expect((await box.unread('a')).map((m) => m.body)).toEqual(['kept']);

    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 10_000);
    const seen: MailboxMessage[] = [];
    const watching = (async () => {
      for await (const m of box.watch('a', { signal: ac.signal })) {
        seen.push(m);
        if (seen.length === 2) ac.abort();
      }
    })();
    const sender = new RedisMailbox(await connect(), keys, run, { tasks: ['a'] });
    await sender.send('a', 'live', { from: 'supervisor' });
    await watching;
    clearTimeout(timer);
    expect(seen.map((m) => m.body)).toEqual(['kept', 'live']);
    expect(await box.peek('a')).toBe(0);
  });
});

describe('RedisContextStore', () => {
  it('sets, reads dotted paths, keeps who added a key, searches and deletes', async () => {
    const ctx = new RedisContextStore(await connect(), keysFor('c1'));
    const first = await ctx.set('api', { auth: { token: 'bearer' } }, { from: 'a' });
    const again = await ctx.set('api', { auth: { token: 'jwt' } });
    expect(again.addedBy).toBe('a');
    expect(again.addedAt).toBe(first.addedAt);
    const other = new RedisContextStore(await connect(), keysFor('c1'));
    expect((await other.get('api.auth.token'))?.value).toBe('jwt');
    expect(Object.keys(await other.search('JWT'))).toEqual(['api']);
    await expect(other.set('bad\nkey', 1)).rejects.toMatchObject({ code: 'ERR_ORCH_INVALID_KEY' });
    expect(await other.getForTask('t', { tasks: [{ id: 't', context_keys: ['api'] }] })).toContain('### api');
    expect(await other.delete('api')).toBe(true);
    expect(await ctx.get('api')).toBeUndefined();
  });
});

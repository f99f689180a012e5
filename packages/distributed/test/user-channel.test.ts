/**
 * The user's channel of a live distributed supervisor (`serveUserChannel`, run by `DistributedRun`
 * while it supervises): what the user sends from any machine is judged and answered while the
 * supervisor runs, a refusal is journaled, and an item journaled before a crash is not recorded
 * twice by the next supervisor.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { OutboxItem } from '@orch/core';
import { userToken } from '@orch/store';
import { runStarted } from '@orch/test-utils';
import { redisForFile } from './redis-store.js';
import { keysFor } from '../src/keys.js';
import { SupervisorLease } from '../src/lease.js';
import { RedisRunLog } from '../src/run-log.js';
import { serveUserChannel } from '../src/run.js';
import { RedisUserOutbox } from '../src/user-outbox.js';

const { connect } = redisForFile();

const progress = (id: string, token: string, message = 'halfway'): OutboxItem => ({
  v: 1,
  id,
  task: 'a',
  token,
  ack: true,
  body: { kind: 'progress', message },
});

describe("a live distributed supervisor's user channel", () => {
  it('answers the sender with its verdict, journals a refusal, and records an item once across supervisors', async () => {
    const keys = keysFor('uc');
    const run = `r${randomBytes(4).toString('hex')}`;
    const redis = await connect();
    const key = randomBytes(32);
    const lease = await SupervisorLease.acquire(redis, keys, run, { ttlMs: 5_000 });
    const log = new RedisRunLog(redis, keys, run, { lease, key });
    await log.append(runStarted(['a'], { run }));
    await log.append({ type: 'task.ready', task: 'a' });
    await log.append({
      type: 'task.started',
      ...{ task: 'a', attempt: 1, session: 's-a', agent: 'shell', promptPath: 'p', logPath: 'l' },
    });
    const stop = await serveUserChannel({ redis, keys, run, key, journal: log });
    const user = new RedisUserOutbox(await connect(), keys, run);

    // The user's report, signed with the user token: confirmed while the supervisor runs.
    await user.drop(progress('item-0020', userToken(key)));
    expect(await user.waitForAck('item-0020', 10_000)).toMatchObject({ id: 'item-0020', ok: true });
    // Someone with only the store's password: refused, told so, and the refusal journaled.
    await user.drop(progress('item-0021', 'f'.repeat(64)));
    expect(await user.waitForAck('item-0021', 10_000)).toMatchObject({ id: 'item-0021', ok: false });
    await stop();
    await log.refresh();
    const events = await log.history();
    expect(events.filter((e) => e.type === 'task.progress')).toEqual([
      expect.objectContaining({ task: 'a', message: 'halfway', item: 'item-0020' }),
    ]);
    expect(events.filter((e) => e.type === 'worker.rejected')).toEqual([
      expect.objectContaining({
        channel: 'user',
        reason: 'the token is not the user token',
        kind: 'progress',
      }),
    ]);

    // The same item again (its sender retried after a crash): the next supervisor answers it from
    // the journal and records nothing twice.
    const next = await serveUserChannel({ redis, keys, run, key, journal: log });
    await user.drop(progress('item-0020', userToken(key)));
    expect(await user.waitForAck('item-0020', 10_000)).toMatchObject({ ok: true, detail: 'recorded before' });
    await next();
    await log.refresh();
    expect((await log.history()).filter((e) => e.type === 'task.progress')).toHaveLength(1);
    await lease.release();
  });
});

/**
 * What the supervisor takes from the store in a distributed run, with a real Redis and no hosts
 * running: the attempt's token leaves only sealed to the trusted hosts; a worker record and channel
 * entries count only with the signature of the trusted host they name (and, for items, of the host
 * the attempt is placed on). Forgeries written straight into Redis are dropped and reported.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxItem } from '@orch/core';
import type { WorkerSpec } from '@orch/engine';
import { dropItem, listDropped, runPaths, taskChannelPaths } from '@orch/store';
import { startRedis, type RedisFixture } from '@orch/test-utils';
import type { Redis } from 'ioredis';
import { AttemptJob } from '../src/attempt-job.js';
import { ChannelBridge, HostChannel, itemFields } from '../src/channel.js';
import { connectStore, storeFromUrl, type StoreOptions } from '../src/connection.js';
import { loadHostIdentity, openSealed, signFields, type HostIdentity } from '../src/host-identity.js';
import { keysFor } from '../src/keys.js';
import { BullWorkerRuntime } from '../src/worker-runtime.js';
import { recordFields } from '../src/worker-state.js';

let redis: RedisFixture;
let store: StoreOptions;
let conn: Redis;
let dir: string;
let h1: HostIdentity;
let h2: HostIdentity;
let mallory: HostIdentity;
const keys = keysFor('trust');

beforeAll(async () => {
  redis = await startRedis();
  store = { ...(await storeFromUrl(redis.url, { ORCH_REDIS_PASSWORD: redis.password })), prefix: 'trust' };
  conn = await connectStore(store);
  dir = await mkdtemp(join(tmpdir(), 'orch-trust-'));
  h1 = await loadHostIdentity(join(dir, 'h1'), 'h1');
  h2 = await loadHostIdentity(join(dir, 'h2'), 'h2');
  mallory = await loadHostIdentity(join(dir, 'mallory'), 'mallory');
});
afterAll(async () => {
  conn?.disconnect();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

const trustedOf = (...ids: HostIdentity[]) => new Map(ids.map((i) => [i.public.name, i.public]));
const token = 'ab'.repeat(32);

function runtime(
  run: string,
  trusted = trustedOf(h1, h2),
  forged: string[][] = [],
  beforeExited?: () => Promise<void>,
): BullWorkerRuntime {
  return new BullWorkerRuntime({
    store,
    redis: conn,
    keys,
    run,
    trusted,
    onForged: (task, reason) => forged.push([task, reason]),
    ...(beforeExited ? { beforeExited } : {}),
    placement: () => ({
      task: 'a',
      attempt: 1,
      baseRef: `orch/${run}/a/work`,
      base: '0'.repeat(40),
      branch: `orch/${run}/a/work`,
      longestPath: 1,
    }),
  });
}

const spec = (run: string): WorkerSpec => ({
  name: `orch-${run}-a`,
  cwd: '/nonexistent-on-the-supervisor',
  argv: ['true'],
  env: {},
  logFile: '/nonexistent-on-the-supervisor/log',
  attempt: {
    run,
    task: 'a',
    attempt: 1,
    agent: 'shell',
    prompt: 'p',
    script: 'true',
    token,
    env: { ORCH_TASK: 'a' },
    sandbox: false,
  },
});

describe('the attempt token in the job', () => {
  it('is sealed to each trusted host and to that attempt only; never in clear', async () => {
    const run = `r${randomBytes(3).toString('hex')}`;
    const rt = runtime(run);
    try {
      await rt.start(spec(run));
      const [job] = await rt.queue.getJobs(['prioritized', 'waiting']);
      const text = JSON.stringify(job?.data);
      expect(text).not.toContain(token);
      const data = AttemptJob.parse(job?.data);
      expect(Object.keys(data.exec?.sealed ?? {}).sort()).toEqual(['h1', 'h2']);
      const ctx = { run, task: 'a', attempt: 1 };
      expect(openSealed(data.exec?.sealed.h1 ?? '', h1, ctx)).toBe(token);
      expect(openSealed(data.exec?.sealed.h2 ?? '', h2, ctx)).toBe(token);
      expect(openSealed(data.exec?.sealed.h1 ?? '', h2, ctx)).toBeUndefined();
      expect(openSealed(data.exec?.sealed.h1 ?? '', mallory, ctx)).toBeUndefined();
    } finally {
      await rt.queue.obliterate({ force: true });
      await rt.close();
    }
  });

  it('with no trusted host, no job is made', async () => {
    const run = `r${randomBytes(3).toString('hex')}`;
    const rt = runtime(run, new Map());
    try {
      await expect(rt.start(spec(run))).rejects.toMatchObject({ code: 'ERR_ORCH_HOST_UNTRUSTED' });
      expect(await conn.exists(keys.worker(run, `orch-${run}-a`))).toBe(0);
      expect(await rt.queue.getJobCounts()).toMatchObject({ waiting: 0, prioritized: 0 });
    } finally {
      await rt.close();
    }
  });
});

describe('a worker record', () => {
  it('says an attempt ended only with its trusted host signature, for that worker, job and attempt', async () => {
    const run = `r${randomBytes(3).toString('hex')}`;
    const forged: string[][] = [];
    // What the host said before the exit is pulled from the channels before the exit is reported.
    const said: string[] = [];
    const rt = runtime(run, trustedOf(h1, h2), forged, async () => {
      said.push('pulled');
    });
    const name = `orch-${run}-a`;
    const key = keys.worker(run, name);
    try {
      await rt.start(spec(run));
      const job = (await conn.hget(key, 'job')) ?? '';
      const ended = {
        job,
        attempt: 1,
        host: 'h1',
        state: 'exited' as const,
        exitStatus: 0,
        head: 'f'.repeat(40),
      };
      const say = (sig: string, host = 'h1') =>
        conn.hset(key, { state: 'exited', exitStatus: '0', head: ended.head, error: '', host, sig });
      // Unsigned, signed by another key, for another job or worker, or by an untrusted host: a host
      // may be at it, nothing ended (the job still waits in the queue).
      const forgeries: [string, string?][] = [
        ['not-a-signature'],
        [signFields(h2, recordFields(run, name, ended))],
        [signFields(h1, recordFields(run, name, { ...ended, job: 'another-job' }))],
        [signFields(h1, recordFields(run, 'orch-other', ended))],
        [signFields(h1, recordFields(run, name, { ...ended, exitStatus: 1 }))],
        [signFields(mallory, recordFields(run, name, { ...ended, host: 'mallory' })), 'mallory'],
      ];
      for (const [sig, host] of forgeries) {
        await say(sig, host);
        expect(await rt.state(name)).toEqual({ exists: true, dead: false, exitStatus: null });
        expect((await rt.describe(name))?.head).toBeUndefined();
      }
      expect(forged.map(([task]) => task)).toEqual(forgeries.map(() => 'a'));
      expect(forged.at(-1)?.[1]).toContain('"mallory" is not trusted');
      // The same forgery read again is reported once.
      await rt.state(name);
      expect(forged).toHaveLength(forgeries.length);
      expect(said).toEqual([]);
      // What h1 signed for this attempt is taken, once the channels were pulled.
      await say(signFields(h1, recordFields(run, name, ended)));
      expect(await rt.state(name)).toEqual({ exists: true, dead: true, exitStatus: 0 });
      expect(said).toEqual(['pulled']);
      expect((await rt.describe(name))?.head).toBe(ended.head);
    } finally {
      await rt.queue.obliterate({ force: true });
      await rt.close();
    }
  });
});

describe('the channel bridge', () => {
  it("hands on the placed host's signed entries and drops every forgery", async () => {
    const run = `r${randomBytes(3).toString('hex')}`;
    const supDir = join(dir, `sup-${run}`);
    const placed: [string, number, string][] = [];
    const forged: string[] = [];
    const bridge = new ChannelBridge({
      redis: conn,
      keys,
      run,
      runDir: runPaths(supDir, run).dir,
      tasks: () => ['a'],
      beforeReport: () => Promise.resolve(),
      onPlaced: (task, attempt, host) => {
        placed.push([task, attempt, host]);
        return Promise.resolve(true);
      },
      trusted: trustedOf(h1, h2),
      placedOn: () => ({ attempt: 1, host: 'h1' }),
      onForged: (_task, reason) => {
        forged.push(reason);
        return Promise.resolve();
      },
    });
    const item = (id: string): OutboxItem => ({
      v: 1,
      id,
      task: 'a',
      attempt: 1,
      token,
      body: { kind: 'progress', message: `from ${id}` },
    });
    /** A host's real end of the channel: what its worker drops goes out signed. */
    const hostSays = async (me: HostIdentity, ...items: OutboxItem[]) => {
      const drop = taskChannelPaths(runPaths(join(dir, `${me.public.name}-${run}`), run).dir, 'a').outbox;
      const ch = new HostChannel(conn, keys, run, 'a', drop, () => Promise.resolve(), undefined, me);
      await ch.placed(me.public.name, 1);
      for (const i of items) await dropItem(drop, i);
      await ch.pump();
    };
    const stream = keys.channel(run, 'a');
    try {
      await hostSays(h1, item('item-real-0001'));
      // Straight into Redis: a placed entry with a bad signature and one from an untrusted host, an
      // item h1 signed with its text changed, one unsigned, and h2's (trusted, but not placed there).
      await conn.xadd(stream, '*', 'placed', 'h1', 'attempt', '1', 'sig', 'x'.repeat(86));
      await conn.xadd(
        stream,
        '*',
        'placed',
        'mallory',
        'attempt',
        '1',
        'sig',
        signFields(mallory, ['placed', run, 'a', '1', 'mallory']),
      );
      const text = JSON.stringify(item('item-fake-0002'));
      const sig = signFields(h1, itemFields(run, 'a', 1, 'h1', text));
      await conn.xadd(
        stream,
        '*',
        'i',
        text.replace('from item', 'from me'),
        'host',
        'h1',
        'attempt',
        '1',
        'sig',
        sig,
      );
      await conn.xadd(stream, '*', 'i', JSON.stringify(item('item-fake-0003')));
      await hostSays(h2, item('item-fake-0004'));
      await bridge.pull('a');

      const handed = await listDropped(taskChannelPaths(runPaths(supDir, run).dir, 'a').outbox);
      expect(handed).toEqual(['item-real-0001.json']);
      // h2's placed entry is its own signed one (the journal decides which host the attempt is on).
      expect(placed).toEqual([
        ['a', 1, 'h1'],
        ['a', 1, 'h2'],
      ]);
      expect(forged).toEqual([
        "a placed entry refused: its signature is not host h1's",
        'a placed entry refused: host "mallory" is not trusted',
        "an item refused: its signature is not host h1's",
        'an item refused: it names no attempt',
        'an item refused: attempt 1 is placed on h1, not h2',
      ]);
      // Everything was taken off the stream: nothing forged waits to be read again.
      expect(await conn.xlen(stream)).toBe(0);
    } finally {
      await bridge.close();
    }
  });
});

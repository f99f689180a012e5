/**
 * The rate limit every host shares, in the hosts' attempt loop: two `orch host` processes (the built
 * CLI) on a real redis-server and a bare remote; orch attempts of an agent whose CLI (a stand-in on
 * the hosts' PATH) says its API's rate limit was reached. The attempt's wrapper reports it, the host
 * records it for every host, and the next attempt of that agent waits on whichever host takes it,
 * while attempts of other agents run.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Config } from '@orch/core';
import { stagingBranch, taskBranch, type WorkerSpec } from '@orch/engine';
import { isolatedTmux, spawnOrch, startRedis, tempRepo, type RedisFixture } from '@orch/test-utils';
import type { Redis } from 'ioredis';
import type { AttemptResult } from '../src/attempt-job.js';
import { connectStore, storeFromUrl, type StoreOptions } from '../src/connection.js';
import { loadHostIdentity } from '../src/host-identity.js';
import { listHosts } from '../src/hosts.js';
import { keysFor } from '../src/keys.js';
import { SharedRateLimit } from '../src/rate-limit.js';
import { BullWorkerRuntime, type AttemptPlacement } from '../src/worker-runtime.js';

const run = 'rl1';
const keys = keysFor('orch');
const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await promisify(execFile)('git', args, { cwd })).stdout.trim();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const until = async (what: string, ok: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
  for (const end = Date.now() + timeoutMs; Date.now() < end;) {
    if (await ok()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
};
/** Aider's stand-in: with FAKE_LIMIT it prints the line aider prints when the API limits it. */
const FAKE_AIDER = `#!/bin/sh
if [ -n "$FAKE_LIMIT" ]; then
  echo "litellm.RateLimitError: rate limit exceeded, retry after $FAKE_LIMIT"
  exit 1
fi
echo "aider ran on $ORCH_HOST"
`;

let redis: RedisFixture;
let dir: string;
let remote: string;
let base: string;
let conn: Redis;
let store: StoreOptions;
let rt: BullWorkerRuntime;
let tmux: Awaited<ReturnType<typeof isolatedTmux>>;
const places = new Map<string, AttemptPlacement>();
const hosts: ReturnType<typeof spawnOrch>[] = [];

beforeAll(async () => {
  redis = await startRedis();
  tmux = await isolatedTmux();
  dir = await mkdtemp(join(tmpdir(), 'orch-host-rl-'));
  const repo = await tempRepo({ 'README.md': '# app\n' });
  const bare = join(dir, 'remote.git');
  await git(dir, 'clone', '-q', '--bare', repo.root, bare);
  await repo.cleanup();
  base = await git(bare, 'rev-parse', 'HEAD');
  await git(bare, 'update-ref', `refs/heads/${stagingBranch(run)}`, base);
  remote = `file://${bare}`;
  store = { ...(await storeFromUrl(redis.url, { ORCH_REDIS_PASSWORD: redis.password })), prefix: 'orch' };
  conn = await connectStore(store);
  // Both hosts enrolled: their identities made in their work directories before they start.
  const ids = await Promise.all(['h1', 'h2'].map((h) => loadHostIdentity(join(dir, h), h)));
  rt = new BullWorkerRuntime({
    store,
    redis: conn,
    keys,
    run,
    // The agent's stand-in lives under the test's /tmp, which a worker's OS sandbox hides.
    config: Config.parse({ workers: { sandbox: 'off' } }),
    trusted: new Map(ids.map((i) => [i.public.name, i.public])),
    placement: (s) => {
      const p = places.get(s.name);
      if (!p) throw new Error(`no placement for ${s.name}`);
      return p;
    },
  });
  const bin = join(dir, 'bin');
  await mkdir(bin);
  await writeFile(join(bin, 'aider'), FAKE_AIDER);
  await chmod(join(bin, 'aider'), 0o755);
  for (const name of ['h1', 'h2']) {
    const home = join(dir, `${name}-home`);
    await mkdir(home);
    await writeFile(join(home, '.gitconfig'), `[user]\n\tname = ${name}\n\temail = ${name}@orch.invalid\n`);
    hosts.push(
      spawnOrch(
        [
          'host',
          ...['--store', redis.url, '--remote', remote, '--slots', '1'],
          ...['--workdir', join(dir, name), '--name', name, '--lease', '5'],
        ],
        {
          cwd: dir,
          env: {
            ...tmux.env,
            HOME: home,
            PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
            ORCH_REDIS_PASSWORD: redis.password,
          },
        },
      ),
    );
  }
  await until('two hosts', async () => (await listHosts(conn, keys)).length === 2);
}, 120_000);

afterAll(async () => {
  for (const h of hosts) {
    h.kill('SIGTERM');
    await h;
  }
  await rt?.close();
  conn?.disconnect();
  await tmux?.cleanup();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Starts an orch attempt of `agent` for task `id` (a fresh task from staging). */
async function attempt(
  id: string,
  agent: 'aider' | 'shell',
  env: Record<string, string> = {},
): Promise<string> {
  const name = `orch-${run}-${id}`;
  places.set(name, {
    task: id,
    attempt: 1,
    baseRef: stagingBranch(run),
    base,
    branch: taskBranch(run, id),
    longestPath: 1,
  });
  const spec: WorkerSpec = {
    name,
    cwd: '/nonexistent-on-the-supervisor',
    argv: ['true'],
    env: {},
    logFile: '/nonexistent-on-the-supervisor/log',
    attempt: {
      run,
      task: id,
      attempt: 1,
      agent,
      prompt: `do ${id}`,
      ...(agent === 'shell' ? { script: `echo "shell ran on $ORCH_HOST"` } : {}),
      token: randomBytes(16).toString('hex'),
      env: { ORCH_RUN: run, ORCH_TASK: id, ...env },
      sandbox: false,
    },
  };
  await rt.start(spec);
  return name;
}

const tail = (name: string): Promise<string> => rt.outputTail({ name }, 50);

describe('the shared rate limit in the hosts’ attempt loop', () => {
  it('an attempt that ran into the limit holds back that agent on every host until it is lifted; other agents run meanwhile', async () => {
    const limit = new SharedRateLimit(conn, keys);
    const resetAt = new Date(Date.now() + 10 * 60_000).toISOString();
    const limited = await attempt('limited', 'aider', { FAKE_LIMIT: resetAt });
    await rt.waitForExit(limited, { timeoutMs: 60_000 });
    expect(await rt.state(limited)).toEqual({ exists: true, dead: true, exitStatus: 1 });
    expect(await tail(limited)).toContain('rate limit exceeded');
    // The host records the limit as the attempt ends, before its job completes: for every host,
    // until the time the API gave (not the 60 s default).
    const jobId = (await rt.describe(limited))?.job ?? '';
    await until(
      'the limited job to complete',
      async () => (await rt.queue.getJobState(jobId)) === 'completed',
    );
    const job = await rt.queue.getJob(jobId);
    expect((job?.returnvalue as AttemptResult | undefined)?.rateLimit).toEqual({ resetAt });
    expect(await limit.heldFor('aider')).toBeGreaterThan(5 * 60_000);

    // The next aider attempt is taken by a host and held there; a shell attempt runs on the other.
    const held = await attempt('held', 'aider');
    await until('the aider attempt to be held back', async () =>
      (await tail(held)).includes('holding back aider'),
    );
    const shell = await attempt('other', 'shell');
    await rt.waitForExit(shell, { timeoutMs: 60_000 });
    expect(await rt.state(shell)).toEqual({ exists: true, dead: true, exitStatus: 0 });
    expect(await tail(shell)).toMatch(/shell ran on h[12]/);
    expect((await rt.describe(shell))?.host).not.toBe((await rt.describe(held))?.host);
    expect(await rt.state(held)).toEqual({ exists: true, dead: false, exitStatus: null });
    expect(await tail(held)).not.toContain('aider ran');

    // Lifted (the person knows the limit is gone): the held attempt starts, and runs.
    await limit.clear('aider');
    await rt.waitForExit(held, { timeoutMs: 60_000 });
    expect(await rt.state(held)).toEqual({ exists: true, dead: true, exitStatus: 0 });
    expect(await tail(held)).toMatch(/aider ran on h[12]/);
    expect(await limit.heldFor('aider')).toBe(0);
  }, 180_000);

  it('an attempt canceled while held back never runs', async () => {
    const limit = new SharedRateLimit(conn, keys);
    await limit.slowDown('aider', { resetAt: new Date(Date.now() + 10 * 60_000).toISOString() });
    const held = await attempt('canceled', 'aider');
    await until('the aider attempt to be held back', async () =>
      (await tail(held)).includes('holding back aider'),
    );
    const jobId = (await rt.describe(held))?.job ?? '';
    await rt.kill(held);
    await until('the held job to end', async () => (await rt.queue.getJobState(jobId)) === 'completed');
    expect(((await rt.queue.getJob(jobId))?.returnvalue as AttemptResult | undefined)?.canceled).toBe(true);
    // Nothing of it was started: no worktree, no log on either host.
    for (const h of ['h1', 'h2']) {
      expect(existsSync(join(dir, h, 'work', run, 'canceled'))).toBe(false);
      expect(existsSync(join(dir, h, 'logs', run, `${held}-1.log`))).toBe(false);
    }
    await limit.clear('aider');
  }, 120_000);
});

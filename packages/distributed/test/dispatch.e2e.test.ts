/**
 * Dispatch with BullMQ against real parts: a redis-server, a bare git repository as the shared
 * remote (file:// URL), hosts with their own tmux servers and clones, shell tasks.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { taskBranch, type WorkerSpec } from '@orch/engine';
import {
  isolatedTmux,
  runOrch,
  spawnOrch,
  startRedis,
  tempRepo,
  type RedisFixture,
  type TempRepo,
} from '@orch/test-utils';
import type { Redis } from 'ioredis';
import { bullPriority } from '../src/attempt-job.js';
import { connectStore, storeFromUrl, type StoreOptions } from '../src/connection.js';
import { Host } from '../src/host.js';
import { loadHostIdentity, type HostPublicIdentity } from '../src/host-identity.js';
import { listHosts } from '../src/hosts.js';
import { keysFor } from '../src/keys.js';
import { BullWorkerRuntime, type AttemptPlacement } from '../src/worker-runtime.js';

const run = 'r1';
const staging = `orch/${run}/staging`;
const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await promisify(execFile)('git', args, { cwd })).stdout.trim();
/** A shell task: writes its file, commits, says so. */
const script = (id: string, extra = ''): string[] => [
  'sh',
  '-c',
  `${extra}printf '%s\\n' ${id} > ${id}.txt && git add ${id}.txt && git commit -qm ${id} && echo done-${id} on $ORCH_HOST`,
];
const identity = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@orch.invalid',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@orch.invalid',
};

let redis: RedisFixture;
let repo: TempRepo;
let dir: string;
let remote: string;
let base: string;
let tmux: Awaited<ReturnType<typeof isolatedTmux>>;
let store: StoreOptions;
let conn: Redis;
const cleanups: (() => Promise<unknown>)[] = [];
/** The enrolled hosts: what they sign of a worker's end is all the supervisor takes. */
const trusted = new Map<string, HostPublicIdentity>();

beforeEach(async () => {
  redis = await startRedis();
  repo = await tempRepo({ 'README.md': '# app\n' });
  dir = await mkdtemp(join(tmpdir(), 'orch-dispatch-'));
  const bare = join(dir, 'remote.git');
  await git(dir, 'clone', '-q', '--bare', repo.root, bare);
  base = await repo.git('rev-parse', 'HEAD');
  await git(bare, 'update-ref', `refs/heads/${staging}`, base);
  remote = `file://${bare}`;
  tmux = await isolatedTmux();
  trusted.clear();
  for (const h of ['h1', 'h2']) trusted.set(h, (await loadHostIdentity(join(dir, h), h)).public);
  store = { ...(await storeFromUrl(redis.url, { ORCH_REDIS_PASSWORD: redis.password })), prefix: 'orch' };
  conn = await connectStore(store);
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  conn.disconnect();
  await tmux.cleanup();
  await redis.stop();
  await repo.cleanup();
  await rm(dir, { recursive: true, force: true });
});

function runtime(places: Map<string, AttemptPlacement>): BullWorkerRuntime {
  const rt = new BullWorkerRuntime({
    store,
    redis: conn,
    keys: keysFor('orch'),
    run,
    trusted,
    placement: (spec: WorkerSpec) => {
      const p = places.get(spec.name);
      if (!p) throw new Error(`no placement for ${spec.name}`);
      return p;
    },
  });
  cleanups.push(() => rt.close());
  return rt;
}

function host(name: string, slots: number, its = remote): Host {
  const h = new Host({
    store,
    remote: its,
    slots,
    workdir: join(dir, name),
    name,
    lockMs: 2_000,
    heartbeatMs: 500,
    streamMs: 200,
    tmuxEnv: tmux.env,
  });
  cleanups.push(() => h.stop({ force: true }));
  return h;
}

const spec = (id: string, argv: string[]): WorkerSpec => ({
  name: `orch-${run}-${id}`,
  cwd: '/nonexistent-on-the-supervisor',
  argv,
  env: { ...identity, ORCH_RUN: run, ORCH_TASK: id },
  logFile: '/nonexistent-on-the-supervisor/log',
});

const place = (id: string, longestPath: number, from = { ref: staging, commit: base }): AttemptPlacement => ({
  task: id,
  attempt: 1,
  baseRef: from.ref,
  base: from.commit,
  branch: taskBranch(run, id),
  longestPath,
});

describe('dispatch over BullMQ to hosts', () => {
  it('runs a 3-task plan on a 2-slot host: output, exits and pushed branches come back through Redis and the remote', async () => {
    const h1 = host('h1', 2);
    // First only a host serving another remote (one without this run's staging) is up.
    const other = join(dir, 'other.git');
    await git(dir, 'init', '-q', '--bare', other);
    const away = host('away', 1, `file://${other}`);
    await away.start();
    // Plan: a and b first (a heads the longer chain), c after a, from a's pushed branch.
    const places = new Map<string, AttemptPlacement>([
      [spec('a', []).name, place('a', 2)],
      [spec('b', []).name, place('b', 1)],
    ]);
    const rt = runtime(places);
    await rt.start(spec('a', script('a')));
    await rt.start(spec('b', script('b')));
    const jobA = (await rt.describe(spec('a', []).name))?.job ?? '';
    const jobB = (await rt.describe(spec('b', []).name))?.job ?? '';
    // It gives the jobs back (says why in its heartbeat): not run, not failed, no attempt counted.
    let why: string | undefined;
    for (const until = Date.now() + 30_000; !why && Date.now() < until;) {
      why = (await conn.hget(keysFor('orch').host('away'), 'gaveBack')) ?? undefined;
      if (!why) await new Promise((r) => setTimeout(r, 100));
    }
    expect(why).toBe(`the base branch of run ${run} is not on this host's remote`);
    await away.stop({ force: true });
    for (const id of [jobA, jobB]) {
      const job = await rt.queue.getJob(id);
      expect(job?.attemptsMade).toBe(0);
      expect(await job?.getState()).not.toBe('failed');
    }
    expect((await rt.describe(spec('a', []).name))?.state).toBe('queued');
    await h1.start();
    expect((await rt.queue.getJob(jobA))?.opts.priority).toBe(bullPriority(2));
    expect((await rt.queue.getJob(jobA))?.opts.priority).toBeLessThan(
      (await rt.queue.getJob(jobB))?.opts.priority ?? 0,
    );

    for (const id of ['a', 'b']) {
      const name = spec(id, []).name;
      await rt.waitForExit(name, { timeoutMs: 60_000 });
      expect(await rt.state(name)).toEqual({ exists: true, dead: true, exitStatus: 0 });
      expect(await rt.outputTail({ name }, 5)).toContain(`done-${id} on h1`);
      expect(await rt.outputSize({ name })).toBeGreaterThan(0);
    }
    const headA = (await rt.describe(spec('a', []).name))?.head ?? '';
    const bare = join(dir, 'remote.git');
    expect(await git(bare, 'rev-parse', `refs/heads/${taskBranch(run, 'a')}`)).toBe(headA);

    const c = spec('c', script('c', 'test -f a.txt && '));
    places.set(c.name, place('c', 1, { ref: taskBranch(run, 'a'), commit: headA }));
    await rt.start(c);
    await rt.waitForExit(c.name, { timeoutMs: 60_000 });
    expect(await rt.state(c.name)).toEqual({ exists: true, dead: true, exitStatus: 0 });
    const files = await git(bare, 'ls-tree', '--name-only', `refs/heads/${taskBranch(run, 'c')}`);
    expect(files.split('\n').sort()).toEqual(['README.md', 'a.txt', 'c.txt']);

    // A job that is not a valid attempt (anyone with the password can add one) is refused unrun.
    const forged = await rt.queue.add('attempt', {
      run,
      task: 'x',
      attempt: 1,
      worker: '../escape',
      baseRef: staging,
      base: 'HEAD',
      branch: '--upload-pack=evil',
      argv: ['sh', '-c', 'exit 7'],
      env: {},
      longestPath: 0,
      timeoutMs: 1000,
    });
    for (const until = Date.now() + 30_000; Date.now() < until;) {
      if ((await forged.getState()) === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await forged.getState()).toBe('failed');
    expect((await rt.queue.getJob(forged.id ?? ''))?.failedReason).toContain('invalid attempt job');

    // Killing a running worker: the host sees the cancel, stops it, and pushes nothing.
    const stuck = spec('stuck', script('stuck', 'sleep 30; '));
    places.set(stuck.name, place('stuck', 1));
    await rt.start(stuck);
    for (const until = Date.now() + 30_000; Date.now() < until;) {
      if ((await rt.describe(stuck.name))?.state === 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await rt.describe(stuck.name)).toMatchObject({ state: 'running', host: 'h1' });
    await rt.kill(stuck.name);
    expect(await rt.state(stuck.name)).toEqual({ exists: false, dead: false, exitStatus: null });

    // The load comes with the next heartbeat (the killed attempt ends within a stream interval).
    let listed = (await listHosts(conn, keysFor('orch')))[0];
    for (const until = Date.now() + 10_000; listed?.active !== 0 && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 100));
      listed = (await listHosts(conn, keysFor('orch')))[0];
    }
    expect(listed).toMatchObject({ name: 'h1', slots: 2, active: 0 });
    expect(listed?.heartbeatAgeMs).toBeLessThan(60_000);
    // Killing a finished worker forgets it.
    await rt.kill(c.name);
    expect(await rt.state(c.name)).toEqual({ exists: false, dead: false, exitStatus: null });
    expect(await rt.describe(stuck.name)).toBeUndefined();
    const branches = await git(bare, 'for-each-ref', '--format=%(refname:short)', `refs/heads/orch/${run}/`);
    expect(branches.split('\n').sort()).toEqual([...['a', 'b', 'c'].map((t) => taskBranch(run, t)), staging]);
    await h1.stop();
    expect(await listHosts(conn, keysFor('orch'))).toEqual([]);
  });

  it('a host killed mid-attempt: its lock lapses and BullMQ hands the attempt to a second host', async () => {
    // The first host is a real `orch host` process, SIGKILLed while its worker runs.
    const child = spawnOrch(
      [
        'host',
        '--store',
        redis.url,
        '--remote',
        remote,
        '--slots',
        '1',
        '--workdir',
        join(dir, 'h1'),
        '--name',
        'h1',
        '--lease',
        '2',
      ],
      { cwd: dir, env: { ...tmux.env, ORCH_REDIS_PASSWORD: redis.password } },
    );
    cleanups.push(async () => {
      child.kill('SIGKILL');
      await child;
    });
    const places = new Map<string, AttemptPlacement>([[spec('slow', []).name, place('slow', 1)]]);
    const rt = runtime(places);
    const slow = spec('slow', script('slow', 'sleep 3; '));
    await rt.start(slow);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await rt.describe(slow.name))?.state !== 'running') {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await rt.describe(slow.name)).toMatchObject({ state: 'running', host: 'h1' });
    child.kill('SIGKILL');
    await child;

    const h2 = host('h2', 1);
    await h2.start();
    await rt.waitForExit(slow.name, { timeoutMs: 60_000 });
    expect(await rt.state(slow.name)).toEqual({ exists: true, dead: true, exitStatus: 0 });
    expect(await rt.describe(slow.name)).toMatchObject({ state: 'exited', host: 'h2' });
    expect(await rt.outputTail({ name: slow.name }, 5)).toContain('done-slow on h2');
    const bare = join(dir, 'remote.git');
    expect(await git(bare, 'ls-tree', '--name-only', `refs/heads/${taskBranch(run, 'slow')}`)).toContain(
      'slow.txt',
    );
    // The lost host's heartbeat record expires; only h2 is listed.
    const until = Date.now() + 20_000;
    let names: string[] = [];
    while (Date.now() < until) {
      names = (await listHosts(conn, keysFor('orch'))).map((x) => x.name);
      if (!names.includes('h1')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(names).toEqual(['h2']);
    const env = { ORCH_REDIS_PASSWORD: redis.password };
    const json = await runOrch(['hosts', '--store', redis.url, '--json'], { cwd: dir, env });
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ name: 'h2', slots: 1 })]);
    const text = await runOrch(['hosts', '--store', redis.url], { cwd: dir, env });
    expect(text.stdout.split('\n')[0]).toMatch(/^HOST\s+SLOTS\s+LOAD\s+HEARTBEAT\s+TRUSTED\s+NOTE$/);
    // A password in the URL is refused, and not printed back.
    const bad = await runOrch(['hosts', '--store', `redis://:${redis.password}@127.0.0.1:${redis.port}/0`], {
      cwd: dir,
    });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('ERR_ORCH_STORE_URL');
    expect(bad.stderr + bad.stdout).not.toContain(redis.password);
  });
});

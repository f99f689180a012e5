/**
 * A distributed run whose supervisor is SIGKILLed mid-run (after a merge, with attempts running on
 * hosts) continues with `orch state resume --store …`: (a) in the run's own checkout, (b) from
 * another directory with `--workdir`, another HOME and the run's folder out of reach. Real parts: a
 * redis-server, a bare repository as the remote, `orch host` processes of the built CLI.
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent, RunState } from '@orch/core';
import { runPaths } from '@orch/store';
import {
  cliWorld,
  enrollHost,
  shellPlanTree,
  spawnOrch,
  startRedis,
  trustHosts,
  writerTaskYaml,
  type CliWorld,
  type RedisFixture,
} from '@orch/test-utils';
import type { Redis } from 'ioredis';
import { connectStore, storeFromUrl } from '../src/connection.js';
import { keysFor } from '../src/keys.js';
import { RedisRunLog } from '../src/run-log.js';

const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await promisify(execFile)('git', args, { cwd })).stdout.trim();

// a and b at once; c and d after them, long enough to still run on their hosts when the
// supervisor is taken over; e after both.
const PLAN = `tasks:${[
  writerTaskYaml('a', []),
  writerTaskYaml('b', []),
  writerTaskYaml('c', ['a'], { pause: 20 }),
  writerTaskYaml('d', ['b'], { pause: 20 }),
  writerTaskYaml('e', ['c', 'd']),
].join('')}\n`;
const TASKS = ['a', 'b', 'c', 'd', 'e'];
const keys = keysFor('orch');

/**
 * A store of one test's own (a redis-server and a connection) and the hosts taking its queue's jobs:
 * every host takes its store's one queue, with its own remote, so the two tests, which run side by
 * side, have a store each.
 */
interface Site {
  redis: RedisFixture;
  conn: Redis;
  hosts: ReturnType<typeof spawnOrch>[];
}

let dir: string;
const sites: Site[] = [];
const worlds: CliWorld[] = [];

async function site(): Promise<Site> {
  const redis = await startRedis();
  const conn = await connectStore(
    await storeFromUrl(redis.url, { ORCH_REDIS_PASSWORD: redis.password }),
  ).catch(async (e: unknown) => {
    await redis.stop();
    throw e;
  });
  const s: Site = { redis, conn, hosts: [] };
  sites.push(s);
  return s;
}

async function identityHome(name: string): Promise<string> {
  const home = join(dir, `${name}-home`);
  await mkdir(home, { recursive: true });
  await writeFile(join(home, '.gitconfig'), `[user]\n\tname = ${name}\n\temail = ${name}@orch.invalid\n`);
  return home;
}

/**
 * A repository with the plan, and a bare clone of it as the run's remote; `tree`: staging's tree
 * after an uninterrupted run of the plan on its files (computed: the shell tasks applied in order).
 */
async function worldWithRemote(
  name: string,
): Promise<{ world: CliWorld; bare: string; remote: string; tree: string }> {
  const world = await cliWorld({ 'README.md': '# app\n' });
  worlds.push(world);
  await writeFile(join(world.repo.root, 'tasks.yaml'), PLAN);
  // Every host is enrolled before it starts: its identity exists when the config names it.
  const trusted: Record<string, string> = {};
  for (const h of ['h1', 'h2'])
    trusted[`${name}-${h}`] = await enrollHost(join(dir, `${name}-${h}`), `${name}-${h}`);
  await trustHosts(world.repo.root, trusted);
  const bare = join(dir, `${name}.git`);
  await git(dir, 'clone', '-q', '--bare', world.repo.root, bare);
  const tree = await shellPlanTree(world.repo.root, await world.repo.git('rev-parse', 'HEAD'), PLAN);
  return { world, bare, remote: `file://${bare}`, tree };
}

async function stopHosts(s: Site): Promise<void> {
  for (const h of s.hosts.splice(0)) {
    h.kill('SIGTERM');
    await h.catch(() => undefined);
  }
}

async function startHosts(s: Site, remote: string, tag: string, env: Record<string, string>): Promise<void> {
  const { redis } = s;
  await Promise.all(
    ['h1', 'h2'].map(async (h) => {
      const name = `${tag}-${h}`;
      const child = spawnOrch(
        [
          'host',
          ...['--store', redis.url, '--remote', remote, '--slots', '2'],
          ...['--workdir', join(dir, name), '--name', name, '--lease', '5'],
        ],
        { cwd: dir, env: { ...env, HOME: await identityHome(name), ORCH_REDIS_PASSWORD: redis.password } },
      );
      child.catch(() => undefined);
      s.hosts.push(child);
    }),
  );
}

const runArgs = (s: Site, remote: string): string[] => [
  'run',
  'tasks.yaml',
  ...['--store', s.redis.url, '--remote', remote],
  ...['--yes', '--no-tui', '--json'],
];

const history = (s: Site, run: string): Promise<RunEvent[]> => new RedisRunLog(s.conn, keys, run).history();

async function dump(s: Site, run: string): Promise<void> {
  const evs = await history(s, run);
  console.log(
    evs
      .map((e) => {
        const { ts: _t, ...rest } = e as RunEvent & { ts?: string };
        return JSON.stringify(rest).slice(0, 400);
      })
      .join('\n'),
  );
}

/**
 * Starts the run, SIGKILLs its supervisor once a task is merged while c or d runs on a host, and
 * waits until its lease expired. Returns the run id.
 */
async function killMidRun(s: Site, world: CliWorld, remote: string): Promise<string> {
  const { conn } = s;
  const running = world.spawn(runArgs(s, remote), { env: { ORCH_REDIS_PASSWORD: s.redis.password } });
  running.catch(() => undefined);
  let run: string | undefined;
  for (const until = Date.now() + 120_000; Date.now() < until;) {
    run = (await conn.zrange(keys.runs(), '-1', '-1'))[0];
    const evs = run ? await history(s, run) : [];
    const started = evs.some((e) => e.type === 'run.started' && e.repoRoot === world.repo.root);
    const merged = evs.some((e) => e.type === 'task.merged');
    const placed = evs.some((e) => e.type === 'task.placed' && (e.task === 'c' || e.task === 'd'));
    if (started && merged && placed) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  running.kill('SIGKILL');
  await running.catch(() => undefined);
  expect(run).toBeDefined();
  const id = run as string;
  const evs = await history(s, id);
  expect(evs.filter((e) => e.type === 'task.merged').length).toBeGreaterThan(0);
  expect(evs.some((e) => e.type === 'run.finished')).toBe(false);
  // Its lease lapses 15 s after its last renewal.
  for (const until = Date.now() + 40_000; Date.now() < until && (await conn.exists(keys.lease(id)));)
    await new Promise((r) => setTimeout(r, 250));
  expect(await conn.exists(keys.lease(id))).toBe(0);
  return id;
}

/** What a resumed run must show: each task merged exactly once, live attempts kept, staging as a run without a crash. */
async function expectFinishedOnce(
  s: Site,
  run: string,
  bare: string,
  referenceTree: string,
): Promise<string> {
  const events = await history(s, run);
  for (const t of TASKS) {
    expect({
      task: t,
      merged: events.filter((e) => e.type === 'task.merged' && e.task === t).length,
    }).toEqual({
      task: t,
      merged: 1,
    });
  }
  // The attempts that ran on hosts through the takeover were kept, not started again.
  for (const t of ['c', 'd'])
    expect(events.flatMap((e) => (e.type === 'task.started' && e.task === t ? [e.attempt] : []))).toEqual([
      1,
    ]);
  expect(events.filter((e) => e.type === 'supervisor.stopped').length).toBeGreaterThan(0);
  const staging = `refs/heads/orch/${run}/staging`;
  expect(await git(bare, 'rev-parse', `${staging}^{tree}`)).toBe(referenceTree);
  return git(bare, 'rev-parse', staging);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orch-takeover-'));
});

afterAll(async () => {
  for (const s of sites.splice(0)) {
    await stopHosts(s);
    s.conn.disconnect();
    await s.redis.stop();
  }
  for (const w of worlds.splice(0)) await w.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

// The two takeovers run one after the other (a store and hosts each): side by side, on a loaded
// 2-core machine, the takeover from another directory once restarted an attempt its host still ran.
describe('orch state resume --store after the supervisor was SIGKILLed', () => {
  it('(a) in the run checkout: the run finishes, each task merged once, the checkout fast-forwarded', async () => {
    const s = await site();
    const { redis } = s;
    const { world, bare, remote, tree } = await worldWithRemote('a');
    await startHosts(s, remote, 'a', world.env);
    const run = await killMidRun(s, world, remote);

    const r = await world.orch(['state', 'resume', '--store', redis.url, '--json'], {
      env: { ORCH_REDIS_PASSWORD: redis.password },
      timeoutMs: 200_000,
    });
    expect(r.stderr).not.toContain('Error');
    const state = JSON.parse(r.stdout) as RunState;
    if (state.outcome !== 'succeeded') await dump(s, run);
    expect({ exit: r.exitCode, outcome: state.outcome, reason: state.reason }).toEqual({
      exit: 0,
      outcome: 'succeeded',
      reason: undefined,
    });
    const tip = await expectFinishedOnce(s, run, bare, tree);
    // Promotion as in the run's own checkout: the user's checkout is fast-forwarded to staging.
    expect(await world.repo.git('rev-parse', 'HEAD')).toBe(tip);
    expect(await readFile(join(world.repo.root, 'src', 'e.txt'), 'utf8')).toBe('e after c,d\n');
  }, 300_000);

  it('(b) from another directory with --workdir: the run finishes there and the remote base is promoted', async () => {
    const s = await site();
    const { redis, conn } = s;
    const { world, bare, remote, tree } = await worldWithRemote('b');
    await startHosts(s, remote, 'b', world.env);
    const before = await world.repo.git('rev-parse', 'HEAD');
    const base = await world.repo.git('rev-parse', '--abbrev-ref', 'HEAD');
    const run = await killMidRun(s, world, remote);

    // The run's key is all this "machine" gets of the first supervisor's; its folder goes away.
    const keyFile = join(dir, 'b-run.key');
    await copyFile(runPaths(world.repo.root, run).key, keyFile);
    await chmod(keyFile, 0o600);
    // The first supervisor's checkout (its run folder, its task copies) is out of reach meanwhile.
    const checkout = world.repo.root;
    await rename(checkout, `${checkout}.away`);
    const elsewhere = join(dir, 'b-elsewhere');
    await mkdir(elsewhere, { recursive: true });
    const env = {
      ...world.env,
      HOME: await identityHome('b-supervisor'),
      ORCH_REDIS_PASSWORD: redis.password,
      ORCH_RUN_KEY_FILE: keyFile,
    };

    // Without --workdir it says what is missing and makes nothing.
    const refused = await world.orch(
      ['state', 'resume', '--store', redis.url, '--run', run, '--remote', remote],
      {
        cwd: elsewhere,
        env,
      },
    );
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('ERR_ORCH_USAGE');
    expect(refused.stderr).toContain('--workdir');
    expect(await conn.exists(keys.lease(run))).toBe(0);

    const workdir = join(elsewhere, 'supervisor');
    const r = await world.orch(
      ['state', 'resume', '--store', redis.url, '--run', run, '--remote', remote, '--workdir', workdir],
      { cwd: elsewhere, env, timeoutMs: 200_000 },
    );
    await rename(`${checkout}.away`, checkout);
    if (r.exitCode !== 0) await dump(s, run);
    expect({ exit: r.exitCode, stderr: r.exitCode === 0 ? '' : `${r.stdout}\n${r.stderr}` }).toEqual({
      exit: 0,
      stderr: '',
    });
    expect(r.stdout).toContain(`Run ${run} succeeded`);
    expect(r.stderr).toContain('pull it in your checkout');
    const tip = await expectFinishedOnce(s, run, bare, tree);
    // Promoted on the remote (a fast-forward of the base), the user's checkout left as it was.
    expect(await git(bare, 'rev-parse', `refs/heads/${base}`)).toBe(tip);
    expect(await world.repo.git('rev-parse', 'HEAD')).toBe(before);
    // The supervisor's clone and the run's rebuilt files are in the work directory.
    expect(await readFile(runPaths(workdir, run).plan, 'utf8')).toBe(PLAN);
  }, 300_000);
});

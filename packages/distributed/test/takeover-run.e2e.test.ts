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

let redis: RedisFixture;
let conn: Redis;
let dir: string;
const hosts: ReturnType<typeof spawnOrch>[] = [];
const worlds: CliWorld[] = [];
/** Staging's tree after an uninterrupted run of the same plan on the same files. */
let referenceTree: string;

async function identityHome(name: string): Promise<string> {
  const home = join(dir, `${name}-home`);
  await mkdir(home, { recursive: true });
  await writeFile(join(home, '.gitconfig'), `[user]\n\tname = ${name}\n\temail = ${name}@orch.invalid\n`);
  return home;
}

/** A repository with the plan, and a bare clone of it as the run's remote. */
async function worldWithRemote(
  name: string,
  tag = name,
): Promise<{ world: CliWorld; bare: string; remote: string }> {
  const world = await cliWorld({ 'README.md': '# app\n' });
  worlds.push(world);
  await writeFile(join(world.repo.root, 'tasks.yaml'), PLAN);
  // Every host is enrolled before it starts: its identity exists when the config names it.
  for (const h of ['h1', 'h2'])
    trusted[`${tag}-${h}`] = await enrollHost(join(dir, `${tag}-${h}`), `${tag}-${h}`);
  await trustHosts(world.repo.root, trusted);
  const bare = join(dir, `${name}.git`);
  await git(dir, 'clone', '-q', '--bare', world.repo.root, bare);
  return { world, bare, remote: `file://${bare}` };
}

/** Stops the hosts of the previous world: every host takes the one queue's jobs, with its own remote. */
async function stopHosts(): Promise<void> {
  for (const h of hosts.splice(0)) {
    h.kill('SIGTERM');
    await h.catch(() => undefined);
  }
}

async function startHosts(remote: string, tag: string, env: Record<string, string>): Promise<void> {
  await stopHosts();
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
      hosts.push(child);
    }),
  );
}

/** The hosts every world's config trusts (each world's hosts are enrolled when they start). */
const trusted: Record<string, string> = {};

const runArgs = (remote: string): string[] => [
  'run',
  'tasks.yaml',
  ...['--store', redis.url, '--remote', remote],
  ...['--yes', '--no-tui', '--json'],
];

const history = (run: string): Promise<RunEvent[]> => new RedisRunLog(conn, keys, run).history();

async function dump(run: string): Promise<void> {
  const evs = await history(run);
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
async function killMidRun(world: CliWorld, remote: string): Promise<string> {
  const running = world.spawn(runArgs(remote), { env: { ORCH_REDIS_PASSWORD: redis.password } });
  running.catch(() => undefined);
  let run: string | undefined;
  for (const until = Date.now() + 120_000; Date.now() < until;) {
    run = (await conn.zrange(keys.runs(), '-1', '-1'))[0];
    const evs = run ? await history(run) : [];
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
  const evs = await history(id);
  expect(evs.filter((e) => e.type === 'task.merged').length).toBeGreaterThan(0);
  expect(evs.some((e) => e.type === 'run.finished')).toBe(false);
  // Its lease lapses 15 s after its last renewal.
  for (const until = Date.now() + 40_000; Date.now() < until && (await conn.exists(keys.lease(id)));)
    await new Promise((r) => setTimeout(r, 250));
  expect(await conn.exists(keys.lease(id))).toBe(0);
  return id;
}

/** What a resumed run must show: each task merged exactly once, live attempts kept, staging as a run without a crash. */
async function expectFinishedOnce(run: string, bare: string): Promise<string> {
  const events = await history(run);
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
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'orch-takeover-'));
  conn = await connectStore(await storeFromUrl(redis.url, { ORCH_REDIS_PASSWORD: redis.password }));
  // The reference: the same plan on the same files, uninterrupted.
  const { world, bare, remote } = await worldWithRemote('reference', 'ref');
  await startHosts(remote, 'ref', world.env);
  const r = await world.orch(runArgs(remote), {
    env: { ORCH_REDIS_PASSWORD: redis.password },
    timeoutMs: 200_000,
  });
  const state = JSON.parse(r.stdout) as RunState;
  expect({ exit: r.exitCode, outcome: state.outcome }).toEqual({ exit: 0, outcome: 'succeeded' });
  referenceTree = await git(bare, 'rev-parse', `refs/heads/orch/${state.run}/staging^{tree}`);
}, 240_000);

afterAll(async () => {
  await stopHosts();
  conn?.disconnect();
  for (const w of worlds.splice(0)) await w.cleanup();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('orch state resume --store after the supervisor was SIGKILLed', () => {
  it('(a) in the run checkout: the run finishes, each task merged once, the checkout fast-forwarded', async () => {
    const { world, bare, remote } = await worldWithRemote('a');
    await startHosts(remote, 'a', world.env);
    const run = await killMidRun(world, remote);

    const r = await world.orch(['state', 'resume', '--store', redis.url, '--json'], {
      env: { ORCH_REDIS_PASSWORD: redis.password },
      timeoutMs: 200_000,
    });
    expect(r.stderr).not.toContain('Error');
    const state = JSON.parse(r.stdout) as RunState;
    if (state.outcome !== 'succeeded') await dump(run);
    expect({ exit: r.exitCode, outcome: state.outcome, reason: state.reason }).toEqual({
      exit: 0,
      outcome: 'succeeded',
      reason: undefined,
    });
    const tip = await expectFinishedOnce(run, bare);
    // Promotion as in the run's own checkout: the user's checkout is fast-forwarded to staging.
    expect(await world.repo.git('rev-parse', 'HEAD')).toBe(tip);
    expect(await readFile(join(world.repo.root, 'src', 'e.txt'), 'utf8')).toBe('e after c,d\n');
  }, 300_000);

  it('(b) from another directory with --workdir: the run finishes there and the remote base is promoted', async () => {
    const { world, bare, remote } = await worldWithRemote('b');
    await startHosts(remote, 'b', world.env);
    const before = await world.repo.git('rev-parse', 'HEAD');
    const base = await world.repo.git('rev-parse', '--abbrev-ref', 'HEAD');
    const run = await killMidRun(world, remote);

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
    if (r.exitCode !== 0) await dump(run);
    expect({ exit: r.exitCode, stderr: r.exitCode === 0 ? '' : `${r.stdout}\n${r.stderr}` }).toEqual({
      exit: 0,
      stderr: '',
    });
    expect(r.stdout).toContain(`Run ${run} succeeded`);
    expect(r.stderr).toContain('pull it in your checkout');
    const tip = await expectFinishedOnce(run, bare);
    // Promoted on the remote (a fast-forward of the base), the user's checkout left as it was.
    expect(await git(bare, 'rev-parse', `refs/heads/${base}`)).toBe(tip);
    expect(await world.repo.git('rev-parse', 'HEAD')).toBe(before);
    // The supervisor's clone and the run's rebuilt files are in the work directory.
    expect(await readFile(runPaths(workdir, run).plan, 'utf8')).toBe(PLAN);
  }, 300_000);
});

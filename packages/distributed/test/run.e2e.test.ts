/**
 * `orch run --store … --remote …` end to end with real parts: a redis-server, a bare repository as
 * the shared remote, two `orch host` processes (the built CLI, each in a work directory of its own,
 * not the supervisor's repository) and a plan of shell tasks in three waves.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

// Three waves: a and b; c after a, d after b; e after both.
const TASKS: [string, string[]][] = [
  ['a', []],
  ['b', []],
  ['c', ['a']],
  ['d', ['b']],
  ['e', ['c', 'd']],
];
const PLAN = `tasks:${TASKS.map(([id, deps]) => writerTaskYaml(id, deps)).join('')}\n`;

let redis: RedisFixture;
let world: CliWorld;
let dir: string;
let remote: string;
let bare: string;
let conn: Redis;
const hosts: ReturnType<typeof spawnOrch>[] = [];
const byName = new Map<string, ReturnType<typeof spawnOrch>>();
/** The hosts enrolled in the run's config (`store.trusted_hosts`). */
const trusted: Record<string, string> = {};

beforeEach(async () => {
  redis = await startRedis();
  world = await cliWorld({ 'README.md': '# app\n' });
  dir = await mkdtemp(join(tmpdir(), 'orch-dist-run-'));
  bare = join(dir, 'remote.git');
  await git(dir, 'clone', '-q', '--bare', world.repo.root, bare);
  remote = `file://${bare}`;
  conn = await connectStore(await storeFromUrl(redis.url, { ORCH_REDIS_PASSWORD: redis.password }));
});

afterEach(async () => {
  for (const h of hosts.splice(0)) {
    h.kill('SIGTERM');
    await h;
  }
  byName.clear();
  for (const k of Object.keys(trusted)) delete trusted[k];
  conn.disconnect();
  await world.cleanup();
  await redis.stop();
  // A SIGKILLed host's worker may still be writing its last report into its task channel.
  await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

/**
 * An `orch host` process with a home of its own (its git identity) and a work directory of its own,
 * enrolled in the run's config (unless `trust` is false: a host the run does not trust).
 */
async function startHost(name: string, trust = true): Promise<void> {
  if (trust) {
    trusted[name] = await enrollHost(join(dir, name), name);
    await trustHosts(world.repo.root, trusted);
  }
  const home = join(dir, `${name}-home`);
  await mkdir(home, { recursive: true });
  await writeFile(join(home, '.gitconfig'), `[user]\n\tname = ${name}\n\temail = ${name}@orch.invalid\n`);
  const child = spawnOrch(
    [
      'host',
      ...['--store', redis.url, '--remote', remote, '--slots', '2'],
      ...['--workdir', join(dir, name), '--name', name, '--lease', '5'],
    ],
    { cwd: dir, env: { ...world.env, HOME: home, ORCH_REDIS_PASSWORD: redis.password } },
  );
  hosts.push(child);
  byName.set(name, child);
}

describe('orch run with a store and a remote', () => {
  it('runs a 3-wave plan on two hosts: every task merged once, staging on the remote, the checkout promoted', async () => {
    await startHost('h1');
    await startHost('h2');
    await writeFile(join(world.repo.root, 'tasks.yaml'), PLAN);
    const r = await world.orch(
      ['run', 'tasks.yaml', '--store', redis.url, '--remote', remote, '--yes', '--no-tui', '--json'],
      { env: { ORCH_REDIS_PASSWORD: redis.password }, timeoutMs: 280_000 },
    );
    expect(r.stderr).not.toContain('Error');
    const state = JSON.parse(r.stdout) as RunState;
    expect({ exit: r.exitCode, outcome: state.outcome, reason: state.reason }).toEqual({
      exit: 0,
      outcome: 'succeeded',
      reason: undefined,
    });
    const run = state.run;

    // The journal is in Redis (none in the run folder), the run is listed, its plan is there.
    expect(existsSync(runPaths(world.repo.root, run).events)).toBe(false);
    const keys = keysFor('orch');
    expect(await conn.zrange(keys.runs(), '0', '-1')).toEqual([run]);
    expect(await conn.get(keys.plan(run))).toBe(PLAN);
    const events: RunEvent[] = await new RedisRunLog(conn, keys, run).history();
    const merged = events.filter((e) => e.type === 'task.merged').map((e) => e.task);
    expect(merged.sort()).toEqual(TASKS.map(([id]) => id));
    // Each task's attempt ran on one of the hosts, and the journal says which.
    const placed = events.flatMap((e) => (e.type === 'task.placed' ? [[e.task, e.host] as const] : []));
    expect(new Set(placed.map(([t]) => t))).toEqual(new Set(TASKS.map(([id]) => id)));
    for (const [, host] of placed) expect(['h1', 'h2']).toContain(host);
    // Reports the workers made on their hosts came through the intake (progress and done).
    for (const [id] of TASKS) {
      expect(events).toContainEqual(expect.objectContaining({ type: 'task.progress', task: id }));
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'task.reported', task: id, status: 'done', summary: `${id} done` }),
      );
    }
    expect(events.filter((e) => e.type === 'worker.rejected')).toEqual([]);

    // Staging on the remote has every task's file; the user's checkout was fast-forwarded to it.
    const staging = `refs/heads/orch/${run}/staging`;
    const tree = (await git(bare, 'ls-tree', '-r', '--name-only', staging)).split('\n');
    for (const [id] of TASKS) expect(tree).toContain(`src/${id}.txt`);
    expect(await world.repo.git('rev-parse', 'HEAD')).toBe(await git(bare, 'rev-parse', staging));
    expect(await readFile(join(world.repo.root, 'src', 'e.txt'), 'utf8')).toBe('e after c,d\n');
    // The hosts worked in their own directories: no task worktree of theirs is in the repository.
    expect(existsSync(join(dir, 'h1', 'repo.git')) && existsSync(join(dir, 'h2', 'repo.git'))).toBe(true);
  }, 300_000);

  it('a host SIGKILLed mid-attempt: the attempt is handed to the other host and the run still finishes', async () => {
    await startHost('h1');
    await startHost('h2');
    const plan = `tasks:${writerTaskYaml('slow', [], { pause: 6 })}${writerTaskYaml('after', ['slow'])}\n`;
    await writeFile(join(world.repo.root, 'tasks.yaml'), plan);
    const running = world.spawn(
      ['run', 'tasks.yaml', '--store', redis.url, '--remote', remote, '--yes', '--no-tui', '--json'],
      { env: { ORCH_REDIS_PASSWORD: redis.password } },
    );
    // The host that takes `slow` is killed while its worker sleeps.
    const keys = keysFor('orch');
    let victim: string | undefined;
    for (const until = Date.now() + 120_000; !victim && Date.now() < until;) {
      const [run] = await conn.zrange(keys.runs(), '0', '-1');
      if (run) {
        const evs = await new RedisRunLog(conn, keys, run).history();
        victim = evs.flatMap((e) => (e.type === 'task.placed' && e.task === 'slow' ? [e.host] : []))[0];
      }
      if (!victim) await new Promise((r) => setTimeout(r, 200));
    }
    expect(['h1', 'h2']).toContain(victim);
    byName.get(victim as string)?.kill('SIGKILL');
    await byName.get(victim as string);

    const r = await running;
    const state = JSON.parse(String(r.stdout)) as RunState;
    expect({ exit: r.exitCode, outcome: state.outcome, reason: state.reason }).toEqual({
      exit: 0,
      outcome: 'succeeded',
      reason: undefined,
    });
    const events = await new RedisRunLog(conn, keys, state.run).history();
    expect(events.filter((e) => e.type === 'task.merged').map((e) => e.task)).toEqual(['slow', 'after']);
    // The same attempt, taken over by the survivor: no retry was counted.
    const slow = events.flatMap((e) => (e.type === 'task.placed' && e.task === 'slow' ? [e] : []));
    expect(slow.map((e) => e.host)).toEqual([victim, victim === 'h1' ? 'h2' : 'h1']);
    expect(slow.map((e) => e.attempt)).toEqual([1, 1]);
    expect(events.filter((e) => e.type === 'task.failed')).toEqual([]);
    const tree = await git(bare, 'ls-tree', '-r', '--name-only', `refs/heads/orch/${state.run}/staging`);
    expect(tree.split('\n')).toEqual(expect.arrayContaining(['src/slow.txt', 'src/after.txt']));
  }, 300_000);
});

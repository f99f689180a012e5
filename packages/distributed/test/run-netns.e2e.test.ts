/**
 * A whole distributed `orch run --store redis://… --remote ssh://…` across machines (`startCluster`):
 * the built CLI as the user runs it, its supervisor in its checkout on the `sup` node, three
 * `orch host`s each on a node of its own (seeing only its own work directory), Redis and the git
 * remote (a bare repository behind a real sshd) on the `svc` node, all on a bridge. The hosts reach
 * the remote with the machine's ssh configuration (no GIT_SSH_COMMAND of their own), so they share
 * their SSH connections themselves. One uninterrupted run is the reference the others compare with:
 * a run that loses a host, and a run whose supervisor's machine is lost and which another
 * supervisor node (`sup2`, which sees none of the first one's files) takes over and finishes.
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent, RunState } from '@orch/core';
import { runPaths } from '@orch/store';
import { startCluster, trustedHostsYaml, writerTaskYaml, type Cluster } from '@orch/test-utils';
import type { Redis } from 'ioredis';
import { connectStore, storeFromUrl } from '../src/connection.js';
import { listHosts } from '../src/hosts.js';
import { hostOwned, keysFor } from '../src/keys.js';
import { RedisRunLog } from '../src/run-log.js';

const keys = keysFor('orch');
/** Three waves of four: a_i; b_i after a_i; c_i after b_i and b_(i+1). Every task sleeps a second. */
const LANES = [0, 1, 2, 3];
const TASKS: [string, string[]][] = [
  ...LANES.map((i): [string, string[]] => [`a${i}`, []]),
  ...LANES.map((i): [string, string[]] => [`b${i}`, [`a${i}`]]),
  ...LANES.map((i): [string, string[]] => [`c${i}`, [`b${i}`, `b${(i + 1) % 4}`]]),
];
const IDS = TASKS.map(([id]) => id);
const PLAN = `tasks:${TASKS.map(([id, deps]) => writerTaskYaml(id, deps, { pause: 1 })).join('')}\n`;
const RUN_TIMEOUT_MS = 240_000;

let c: Cluster;
let conn: Redis;
let base: string;
/** The uninterrupted run's staging tree. */
let referenceTree: string | undefined;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await promisify(execFile)('git', args, { cwd, timeout: 30_000 })).stdout.trim();

beforeAll(async () => {
  c = await startCluster({ hosts: 3, supervisors: 2 });
  ({ base } = await c.seed({ 'README.md': '# app\n', 'tasks.yaml': PLAN }));
  conn = await connectStore(await storeFromUrl(c.redis.localUrl, { ORCH_REDIS_PASSWORD: c.redis.password }));
  for (const h of c.hosts) {
    // The workers' commits on a host are made with its user's identity.
    await writeFile(join(c.dir(h), '.gitconfig'), `[user]\n\tname = ${h}\n\temail = ${h}@orch.invalid\n`);
    c.startHost(h, { slots: 1, lease: 2, ssh: 'system' });
  }
  for (const until = Date.now() + 30_000; ;) {
    if ((await conn.smembers(keys.hosts())).length === c.hosts.length) break;
    if (Date.now() > until) throw new Error('the three hosts did not come up');
    await sleep(100);
  }
}, 120_000);

afterAll(async () => {
  conn?.disconnect();
  await c?.cleanup();
});

/** A checkout of its own for one run on the supervisor node: the remote's main, as the user has it. */
async function checkout(name: string): Promise<string> {
  const dir = join(c.dir('sup'), name);
  await git(c.dir('sup'), 'clone', '-q', '--branch', 'main', c.remote.path, dir);
  for (const [k, v] of [
    ['user.name', 'orch test'],
    ['user.email', 'test@orch.invalid'],
    ['gc.auto', '0'],
  ] as const) {
    await git(dir, 'config', k, v);
  }
  await git(dir, 'remote', 'set-url', 'origin', c.remote.url);
  // The user's config trusts the three hosts (enrolled with `orch host --identity` on each).
  await writeFile(join(dir, 'orch.yaml'), trustedHostsYaml(await c.enroll()));
  return dir;
}

const runArgs = (): string[] => [
  'run',
  'tasks.yaml',
  ...['--store', c.redis.url, '--remote', c.remote.url],
  ...['--yes', '--no-tui', '--json'],
];

/** The run's journal as the store has it (the newest run of the store unless one is named). */
async function history(run?: string): Promise<{ run: string; events: RunEvent[] }> {
  const id = run ?? (await conn.zrange(keys.runs(), '-1', '-1'))[0];
  if (!id) return { run: '', events: [] };
  return { run: id, events: await new RedisRunLog(conn, keys, id).history() };
}

const placedOf = (events: RunEvent[]): [string, string][] =>
  events.flatMap((e) => (e.type === 'task.placed' ? [[e.task, e.host] as [string, string]] : []));

/** Waits (bounded) until the newest run's journal satisfies `ok`; returns that journal. */
async function whenJournal(
  what: string,
  ok: (events: RunEvent[]) => boolean,
  afterRun: string | undefined,
): Promise<{ run: string; events: RunEvent[] }> {
  for (const until = Date.now() + 120_000; Date.now() < until;) {
    const h = await history();
    if (h.run && h.run !== afterRun && ok(h.events)) return h;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** What every finished run must show: each task merged exactly once, staging on the remote. */
async function expectFinished(run: string, events: RunEvent[]): Promise<string> {
  const merged = new Map<string, number>();
  for (const e of events) if (e.type === 'task.merged') merged.set(e.task, (merged.get(e.task) ?? 0) + 1);
  expect(Object.fromEntries(merged)).toEqual(Object.fromEntries(IDS.map((id) => [id, 1])));
  expect(events.filter((e) => e.type === 'worker.rejected' || e.type === 'task.failed')).toEqual([]);
  for (const [, host] of placedOf(events)) expect(c.hosts).toContain(host);
  const staging = `refs/heads/orch/${run}/staging`;
  const files = (await c.remote.git('ls-tree', '-r', '--name-only', staging)).split('\n');
  expect(files.sort()).toEqual(['README.md', 'tasks.yaml', ...IDS.map((id) => `src/${id}.txt`)].sort());
  expect(await c.remote.git('show', `${staging}:src/c3.txt`)).toBe('c3 after b3,b0');
  expect(await c.remote.git('merge-base', '--is-ancestor', base, staging)).toBe('');
  return c.remote.git('rev-parse', `${staging}^{tree}`);
}

/** What went wrong in a run, for the failure message: failures, retries, refusals, exits but 0. */
const trouble = (events: RunEvent[]): unknown[] =>
  events.filter(
    (e) =>
      ['task.failed', 'task.retry', 'worker.rejected', 'task.attention'].includes(e.type) ||
      (e.type === 'task.exited' && e.exitCode !== 0),
  );

/** Every key of the store and the name of every BullMQ worker connection. */
async function storeKeys(): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await conn.scan(cursor, 'COUNT', 1000);
    cursor = next;
    out.push(...batch);
  } while (cursor !== '0');
  return out;
}

describe('orch run --store --remote across network namespaces', () => {
  it('a 12-task plan in 3 waves runs across the three hosts: every task merged once, staging on the remote, the checkout promoted', async () => {
    const repo = await checkout('reference');
    const r = await c.orch('sup', runArgs(), { cwd: repo, timeoutMs: RUN_TIMEOUT_MS });
    expect(r.stderr).not.toContain('Error');
    const state = JSON.parse(r.stdout) as RunState;
    expect({
      exit: r.exitCode,
      outcome: state.outcome,
      reason: state.reason,
      trouble: trouble((await history(state.run)).events),
    }).toEqual({ exit: 0, outcome: 'succeeded', reason: undefined, trouble: [] });
    const { events } = await history(state.run);
    referenceTree = await expectFinished(state.run, events);
    // Each task was placed once, and every host ran some of them.
    const placed = placedOf(events);
    expect(placed.map(([t]) => t).sort()).toEqual([...IDS].sort());
    expect(new Set(placed.map(([, h]) => h))).toEqual(new Set(c.hosts));
    // The checkout was fast-forwarded to staging; the remote's main is the user's base still.
    expect(await git(repo, 'rev-parse', 'HEAD')).toBe(
      await c.remote.git('rev-parse', `refs/heads/orch/${state.run}/staging`),
    );
    expect(await c.remote.git('rev-parse', 'refs/heads/main')).toBe(base);
    // Each host's git shared one SSH connection (its own ControlMaster: the user set no ssh
    // command), whose socket is in a folder of its work directory that only its user enters.
    for (const h of c.hosts) {
      const control = join(c.dir(h), 'host', 'ssh');
      expect((await stat(control)).mode & 0o777).toBe(0o700);
      expect(await readdir(control)).toHaveLength(1);
    }
  }, 300_000);

  it('one host killed mid-run (every process in its namespace, then the namespace): its attempt runs elsewhere, the run finishes with the same tree, and only its history is left in Redis', async () => {
    expect(referenceTree).toBeDefined();
    const before = (await conn.zrange(keys.runs(), '-1', '-1'))[0];
    const repo = await checkout('host-lost');
    const running = c.spawnOrch('sup', runArgs(), { cwd: repo, timeoutMs: RUN_TIMEOUT_MS });
    // The host of the first second-wave attempt is lost while that attempt sleeps.
    const { run, events: seen } = await whenJournal(
      'a second-wave attempt placed on a host',
      (evs) => placedOf(evs).some(([t]) => t.startsWith('b')),
      before,
    );
    const [lostTask, victim] = placedOf(seen).find(([t]) => t.startsWith('b')) ?? ['', ''];
    await c.kill(victim);

    const r = await running;
    const state = JSON.parse(String(r.stdout)) as RunState;
    expect({
      exit: r.exitCode,
      outcome: state.outcome,
      reason: state.reason,
      trouble: trouble((await history(state.run)).events),
    }).toEqual({ exit: 0, outcome: 'succeeded', reason: undefined, trouble: [] });
    expect(state.run).toBe(run);
    const { events } = await history(run);
    expect(await expectFinished(run, events)).toBe(referenceTree);
    // The lost attempt was handed to a surviving host (the same attempt: no retry counted), and
    // nothing ran on the lost host after it was gone.
    const lost = events.flatMap((e) => (e.type === 'task.placed' && e.task === lostTask ? [e] : []));
    expect(lost.map((e) => e.attempt)).toEqual([1, 1]);
    expect(lost[0]?.host).toBe(victim);
    expect(c.hosts.filter((h) => h !== victim)).toContain(lost[1]?.host);
    const killedAt = events.findIndex((e) => e === lost[1]);
    expect(placedOf(events.slice(killedAt)).filter(([, h]) => h === victim)).toEqual([]);

    // What a host owns in the store (keys.ts, hostOwned) is gone once its heartbeat expired and a
    // reader listed the hosts (as `orch hosts` does): its record, its name in the hosts set, its
    // BullMQ worker connections and job locks. What is left naming it is history (the journal's
    // task.placed, finished jobs' results).
    for (const until = Date.now() + 30_000; (await listHosts(conn, keys)).some((h) => h.name === victim);) {
      if (Date.now() > until) throw new Error(`the lost host's record did not expire`);
      await sleep(200);
    }
    const owned = hostOwned(keys, victim);
    for (const k of owned.keys) expect(await conn.exists(k)).toBe(0);
    for (const [set, member] of owned.members) expect(await conn.sismember(set, member)).toBe(0);
    expect((await listHosts(conn, keys)).map((h) => h.name).sort()).toEqual(
      c.hosts.filter((h) => h !== victim),
    );
    const all = await storeKeys();
    const named = new RegExp(`(^|[^a-z0-9])${victim}($|[^a-z0-9])`);
    expect(all.filter((k) => named.test(k))).toEqual([]);
    expect(all.filter((k) => k.endsWith(':lock'))).toEqual([]);
    const clients = String(await conn.client('LIST'))
      .split('\n')
      .map((l) => /(?:^| )name=(\S*)/.exec(l)?.[1] ?? '');
    expect(clients.filter((n) => named.test(n))).toEqual([]);
    // The run's worker records say where each attempt ended: never the lost host.
    const records = all.filter((k) => k.startsWith(`${keys.events(run).replace(/events$/, '')}worker:`));
    for (const k of records) expect((await conn.hget(k, 'host')) ?? '').not.toBe(victim);
  }, 300_000);

  it('the supervisor SIGKILLed mid-run (its whole node) and resumed from another namespace: the run finishes there, every task merged once, the same tree, the base pushed on the remote', async () => {
    expect(referenceTree).toBeDefined();
    const before = (await conn.zrange(keys.runs(), '-1', '-1'))[0];
    const repo = await checkout('supervisor-lost');
    const running = c.spawnOrch('sup', runArgs(), { cwd: repo, timeoutMs: RUN_TIMEOUT_MS });
    // The supervisor's machine is lost once the first wave is merged and the second is under way.
    const { run } = await whenJournal(
      'the first wave merged',
      (evs) => LANES.every((i) => evs.some((e) => e.type === 'task.merged' && e.task === `a${i}`)),
      before,
    );
    // The run's key, copied to the other supervisor machine as the user would (owner-only).
    const keyFile = join(c.dir('sup2'), 'run.key');
    await copyFile(runPaths(repo, run).key, keyFile);
    await chmod(keyFile, 0o600);
    // Its commits (merges) are made with that machine's user's identity.
    await writeFile(
      join(c.dir('sup2'), '.gitconfig'),
      '[user]\n\tname = sup2\n\temail = sup2@orch.invalid\n',
    );
    await c.kill('sup');
    await running;

    const resume = [
      ...['state', 'resume', '--run', run, '--store', c.redis.url, '--remote', c.remote.url],
      ...['--workdir', join(c.dir('sup2'), 'work'), '--json'],
    ];
    const env = { ORCH_RUN_KEY_FILE: keyFile };
    // While the dead supervisor's lease is live, a second supervisor is refused, naming the holder.
    const live = (await conn.pttl(keys.lease(run))) > 3_000;
    const early = live ? await c.orch('sup2', resume, { env, timeoutMs: 60_000 }) : undefined;
    if (early) {
      expect(early.exitCode).not.toBe(0);
      expect(`${early.stdout}${early.stderr}`).toContain('ERR_ORCH_SUPERVISOR_LEASE');
    }
    for (const until = Date.now() + 60_000; (await conn.exists(keys.lease(run))) === 1;) {
      if (Date.now() > until) throw new Error('the dead supervisor’s lease did not expire');
      await sleep(200);
    }
    const r = await c.orch('sup2', resume, { env, timeoutMs: RUN_TIMEOUT_MS });
    const state = JSON.parse(r.stdout) as RunState;
    expect({
      exit: r.exitCode,
      outcome: state.outcome,
      reason: state.reason,
      trouble: trouble((await history(run)).events),
    }).toEqual({ exit: 0, outcome: 'succeeded', reason: undefined, trouble: [] });
    const { events } = await history(run);
    expect(await expectFinished(run, events)).toBe(referenceTree);
    expect(events.filter((e) => e.type === 'supervisor.started').length).toBeGreaterThanOrEqual(2);
    // Promoted from away from the user's checkout: the base branch pushed on the remote as a
    // fast-forward to staging; the user's checkout (on the lost machine) is untouched.
    const staging = await c.remote.git('rev-parse', `refs/heads/orch/${run}/staging`);
    expect(await c.remote.git('rev-parse', 'refs/heads/main')).toBe(staging);
    expect(await git(repo, 'rev-parse', 'HEAD')).toBe(base);
  }, 400_000);
});

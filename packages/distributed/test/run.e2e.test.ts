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
/**
 * Task b as a writer task that first waits (bounded) for a mail sent to it mid-run, and writes what
 * it got and what it sees of its host's work directory (its sandbox binds only the attempt's parts).
 */
const MAIL_TASK = `
  - id: b
    description: write src/b.txt
    agent: shell
    files_write: [src/b.txt]
    depends_on: []
    verification:
      - command: test -s src/b.txt
        type: check
    run: |
      got=
      for i in $(seq 1 300); do
        got=$(orch mailbox check)
        case "$got" in *"hello b"*) break;; esac
        sleep 0.2
      done
      mkdir -p src
      echo "b after nothing" > src/b.txt
      case "$got" in *"hello b"*) echo "mail: received" >> src/b.txt;; esac
      echo "host dir: $(ls -A "$(dirname "$ORCH_ROOT")" | tr '\\n' ' ')" >> src/b.txt
      git add -A
      git diff --cached --quiet || git commit -qm "b"
      orch task progress "wrote src/b.txt"
      orch task done --summary "b done"`;
const PLAN = `tasks:${TASKS.map(([id, deps]) => (id === 'b' ? MAIL_TASK : writerTaskYaml(id, deps))).join('')}\n`;

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

/** A host enrolled in the run's config: `orch host --identity` on it, the line in `store.trusted_hosts`. */
async function enroll(name: string): Promise<void> {
  trusted[name] = await enrollHost(join(dir, name), name);
  await trustHosts(world.repo.root, trusted);
}

/**
 * An `orch host` process with a home of its own (its git identity) and a work directory of its own,
 * enrolled in the run's config first (unless `trust` is false: a host the run does not trust).
 */
async function startHost(name: string, trust = true): Promise<void> {
  if (trust && !trusted[name]) await enroll(name);
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
    const keys = keysFor('orch');
    await enroll('h1');
    await enroll('h2');
    // A host the run does not trust is the only one serving when the run starts: it gets no token
    // and gives the first wave's jobs back (not failed, no attempt counted) until h1 and h2 come.
    await startHost('h3', false);
    await writeFile(join(world.repo.root, 'tasks.yaml'), PLAN);
    const running = world.spawn(
      ['run', 'tasks.yaml', '--store', redis.url, '--remote', remote, '--yes', '--no-tui', '--json'],
      { env: { ORCH_REDIS_PASSWORD: redis.password } },
    );
    let listed: string | undefined;
    for (const until = Date.now() + 60_000; !listed && Date.now() < until;) {
      listed = (await conn.zrange(keys.runs(), '0', '-1'))[0];
      if (!listed) await new Promise((r) => setTimeout(r, 100));
    }
    expect(listed).toBeDefined();
    // Anyone with the store's password: a forged placed entry and a forged report for e.
    const forgedChannel = keys.channel(listed as string, 'e');
    await conn.xadd(forgedChannel, '*', 'placed', 'h1', 'attempt', '1', 'sig', 'x'.repeat(86));
    const forgedDone = { v: 1, id: 'forged-0001', task: 'e', attempt: 1, token: '0'.repeat(64) };
    await conn.xadd(
      forgedChannel,
      '*',
      ...['i', JSON.stringify({ ...forgedDone, body: { kind: 'done', summary: 'forged' } })],
      ...['host', 'h1', 'attempt', '1', 'sig', 'y'.repeat(86)],
    );
    for (const until = Date.now() + 60_000; Date.now() < until;) {
      if (await conn.hget(keys.host('h3'), 'gaveBack')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await conn.hget(keys.host('h3'), 'gaveBack')).toContain('does not trust this host');
    await startHost('h1');
    await startHost('h2');
    // Once b runs on a host, the user sends it a mail from the checkout through the store.
    let bHost: string | undefined;
    for (const until = Date.now() + 120_000; !bHost && Date.now() < until;) {
      const [id] = await conn.zrange(keys.runs(), '0', '-1');
      if (id) {
        const evs = await new RedisRunLog(conn, keys, id).history();
        bHost = evs.flatMap((e) => (e.type === 'task.placed' && e.task === 'b' ? [e.host] : []))[0];
      }
      if (!bHost) await new Promise((r) => setTimeout(r, 200));
    }
    const sent = await world.orch(['mailbox', 'send', 'b', 'hello b from the user', '--store', redis.url], {
      env: { ORCH_REDIS_PASSWORD: redis.password },
    });
    expect(sent.exitCode).toBe(0);
    const r = await running;
    expect(String(r.stderr)).not.toContain('Error');
    const state = JSON.parse(String(r.stdout)) as RunState;
    expect({ exit: r.exitCode, outcome: state.outcome, reason: state.reason }).toEqual({
      exit: 0,
      outcome: 'succeeded',
      reason: undefined,
    });
    const run = state.run;

    // The journal is in Redis (none in the run folder), the run is listed, its plan is there.
    expect(existsSync(runPaths(world.repo.root, run).events)).toBe(false);
    expect(await conn.zrange(keys.runs(), '0', '-1')).toEqual([run]);
    expect(await conn.get(keys.plan(run))).toBe(PLAN);
    const events: RunEvent[] = await new RedisRunLog(conn, keys, run).history();
    const merged = events.filter((e) => e.type === 'task.merged').map((e) => e.task);
    expect(merged.sort()).toEqual(TASKS.map(([id]) => id));
    // Each task's attempt ran on one of the hosts, and the journal says which.
    const placed = events.flatMap((e) => (e.type === 'task.placed' ? [[e.task, e.host] as const] : []));
    expect(new Set(placed.map(([t]) => t))).toEqual(new Set(TASKS.map(([id]) => id)));
    for (const [, host] of placed) expect(['h1', 'h2']).toContain(host);
    // The jobs h3 gave back ran once each on a trusted host: one attempt per task, none failed.
    expect(events.filter((e) => e.type === 'task.started').map((e) => e.attempt)).toEqual(TASKS.map(() => 1));
    expect(events.filter((e) => e.type === 'task.failed')).toEqual([]);
    // Reports the workers made on their hosts came through the intake (progress and done).
    for (const [id] of TASKS) {
      expect(events).toContainEqual(expect.objectContaining({ type: 'task.progress', task: id }));
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'task.reported', task: id, status: 'done', summary: `${id} done` }),
      );
    }
    // Only the two forgeries were refused (and journaled); e's real report is the one recorded.
    expect(
      events.flatMap((e) => (e.type === 'worker.rejected' ? [[e.channel, e.kind, e.reason]] : [])),
    ).toEqual([
      ['e', 'forged', "a placed entry refused: its signature is not host h1's"],
      ['e', 'forged', "an item refused: its signature is not host h1's"],
    ]);
    expect(events).not.toContainEqual(expect.objectContaining({ type: 'task.reported', summary: 'forged' }));
    // orch hosts, in the run's checkout, says which hosts its config trusts and why h3 gave jobs back.
    const listing = await world.orch(['hosts', '--store', redis.url, '--json'], {
      env: { ORCH_REDIS_PASSWORD: redis.password },
    });
    const seen = JSON.parse(listing.stdout) as { name: string; trusted: string; gaveBack?: string }[];
    expect(seen.map((h) => [h.name, h.trusted])).toEqual([
      ['h1', 'yes'],
      ['h2', 'yes'],
      ['h3', 'no'],
    ]);
    expect(seen.find((h) => h.name === 'h3')?.gaveBack).toContain(`run ${run} does not trust this host`);

    // Staging on the remote has every task's file; the user's checkout was fast-forwarded to it.
    const staging = `refs/heads/orch/${run}/staging`;
    const tree = (await git(bare, 'ls-tree', '-r', '--name-only', staging)).split('\n');
    for (const [id] of TASKS) expect(tree).toContain(`src/${id}.txt`);
    expect(await world.repo.git('rev-parse', 'HEAD')).toBe(await git(bare, 'rev-parse', staging));
    expect(await readFile(join(world.repo.root, 'src', 'e.txt'), 'utf8')).toBe('e after c,d\n');
    // b got the mail sent mid-run in its inbox on its host, and ran in the host's OS sandbox: of the
    // host's work directory it saw only its clone, worktrees, channels and shim, not the logs beside them.
    expect(await readFile(join(world.repo.root, 'src', 'b.txt'), 'utf8')).toBe(
      'b after nothing\nmail: received\nhost dir: bin repo.git root work \n',
    );
    expect(existsSync(join(dir, bHost as string, 'logs'))).toBe(true);
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

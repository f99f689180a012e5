/**
 * What the multi-host run files (`run-netns.e2e`, `run-netns-lost.e2e`) share: a cluster
 * (`startCluster`) for one file with the plan seeded on the remote and the three `orch host`s up, and
 * the reads and checks of a finished run. Each file makes its own runs on its own cluster, so the two
 * run side by side.
 *
 * The plan: three waves of four (a_i; b_i after a_i; c_i after b_i and b_(i+1)), every task sleeping
 * a second. What an uninterrupted run's staging holds is computed (`shellPlanTree`: the tasks' scripts
 * applied one after another in a plain clone at the base, no orch involved) rather than run.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect } from 'vitest';
import type { RunEvent } from '@orch/core';
import {
  shellPlanTree,
  startCluster,
  trustedHostsYaml,
  writerTaskYaml,
  type Cluster,
} from '@orch/test-utils';
import type { Redis } from 'ioredis';
import { connectStore, storeFromUrl } from '../src/connection.js';
import { keysFor } from '../src/keys.js';
import { RedisRunLog } from '../src/run-log.js';

export const keys = keysFor('orch');
export const LANES = [0, 1, 2, 3];
const TASKS: [string, string[]][] = [
  ...LANES.map((i): [string, string[]] => [`a${i}`, []]),
  ...LANES.map((i): [string, string[]] => [`b${i}`, [`a${i}`]]),
  ...LANES.map((i): [string, string[]] => [`c${i}`, [`b${i}`, `b${(i + 1) % 4}`]]),
];
export const IDS = TASKS.map(([id]) => id);
const PLAN = `tasks:${TASKS.map(([id, deps]) => writerTaskYaml(id, deps, { pause: 1 })).join('')}\n`;
export const RUN_TIMEOUT_MS = 240_000;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await promisify(execFile)('git', args, { cwd, timeout: 30_000 })).stdout.trim();

export interface NetnsRun {
  readonly c: Cluster;
  readonly conn: Redis;
  /** The remote's main as seeded: the run's base. */
  readonly base: string;
  /** Staging's tree after an uninterrupted run of the plan (computed). */
  readonly referenceTree: string;
  /** A checkout of its own for one run on the supervisor node: the remote's main, as the user has it. */
  checkout(name: string): Promise<string>;
  runArgs(): string[];
  /** The run's journal as the store has it (the newest run of the store unless one is named). */
  history(run?: string): Promise<{ run: string; events: RunEvent[] }>;
  /** Waits (bounded) until the newest run's journal satisfies `ok`; returns that journal. */
  whenJournal(
    what: string,
    ok: (events: RunEvent[]) => boolean,
    afterRun: string | undefined,
  ): Promise<{ run: string; events: RunEvent[] }>;
  /** What every finished run must show: each task merged exactly once, staging on the remote; its tree. */
  expectFinished(run: string, events: RunEvent[]): Promise<string>;
  /** Every key of the store. */
  storeKeys(): Promise<string[]>;
}

export const placedOf = (events: RunEvent[]): [string, string][] =>
  events.flatMap((e) => (e.type === 'task.placed' ? [[e.task, e.host] as [string, string]] : []));

/** What went wrong in a run, for the failure message: failures, retries, refusals, exits but 0. */
export const trouble = (events: RunEvent[]): unknown[] =>
  events.filter(
    (e) =>
      ['task.failed', 'task.retry', 'worker.rejected', 'task.attention'].includes(e.type) ||
      (e.type === 'task.exited' && e.exitCode !== 0),
  );

/** The cluster of one file: registers its beforeAll/afterAll; read the fields inside the tests. */
export function netnsRunForFile(opts: { supervisors: number }): NetnsRun {
  let c: Cluster | undefined;
  let conn: Redis | undefined;
  let base = '';
  let referenceTree = '';
  const cluster = (): Cluster => {
    if (!c) throw new Error('the cluster is not started');
    return c;
  };
  const store = (): Redis => {
    if (!conn) throw new Error('the store is not connected');
    return conn;
  };

  beforeAll(async () => {
    c = await startCluster({ hosts: 3, supervisors: opts.supervisors });
    const seeded = await c.seed({ 'README.md': '# app\n', 'tasks.yaml': PLAN });
    base = seeded.base;
    referenceTree = await shellPlanTree(c.remote.path, base, PLAN);
    conn = await connectStore(
      await storeFromUrl(c.redis.localUrl, { ORCH_REDIS_PASSWORD: c.redis.password }),
    );
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

  const history = async (run?: string): Promise<{ run: string; events: RunEvent[] }> => {
    const id = run ?? (await store().zrange(keys.runs(), '-1', '-1'))[0];
    if (!id) return { run: '', events: [] };
    return { run: id, events: await new RedisRunLog(store(), keys, id).history() };
  };

  return {
    get c() {
      return cluster();
    },
    get conn() {
      return store();
    },
    get base() {
      return base;
    },
    get referenceTree() {
      return referenceTree;
    },
    checkout: async (name) => {
      const dir = join(cluster().dir('sup'), name);
      await git(cluster().dir('sup'), 'clone', '-q', '--branch', 'main', cluster().remote.path, dir);
      for (const [k, v] of [
        ['user.name', 'orch test'],
        ['user.email', 'test@orch.invalid'],
        ['gc.auto', '0'],
      ] as const) {
        await git(dir, 'config', k, v);
      }
      await git(dir, 'remote', 'set-url', 'origin', cluster().remote.url);
      // The user's config trusts the three hosts (enrolled with `orch host --identity` on each).
      await writeFile(join(dir, 'orch.yaml'), trustedHostsYaml(await cluster().enroll()));
      return dir;
    },
    runArgs: () => [
      'run',
      'tasks.yaml',
      ...['--store', cluster().redis.url, '--remote', cluster().remote.url],
      ...['--yes', '--no-tui', '--json'],
    ],
    history,
    whenJournal: async (what, ok, afterRun) => {
      for (const until = Date.now() + 120_000; Date.now() < until;) {
        const h = await history();
        if (h.run && h.run !== afterRun && ok(h.events)) return h;
        await sleep(100);
      }
      throw new Error(`timed out waiting for ${what}`);
    },
    expectFinished: async (run, events) => {
      const remote = cluster().remote;
      const merged = new Map<string, number>();
      for (const e of events) if (e.type === 'task.merged') merged.set(e.task, (merged.get(e.task) ?? 0) + 1);
      expect(Object.fromEntries(merged)).toEqual(Object.fromEntries(IDS.map((id) => [id, 1])));
      expect(events.filter((e) => e.type === 'worker.rejected' || e.type === 'task.failed')).toEqual([]);
      for (const [, host] of placedOf(events)) expect(cluster().hosts).toContain(host);
      const staging = `refs/heads/orch/${run}/staging`;
      const files = (await remote.git('ls-tree', '-r', '--name-only', staging)).split('\n');
      expect(files.sort()).toEqual(['README.md', 'tasks.yaml', ...IDS.map((id) => `src/${id}.txt`)].sort());
      expect(await remote.git('show', `${staging}:src/c3.txt`)).toBe('c3 after b3,b0');
      expect(await remote.git('merge-base', '--is-ancestor', base, staging)).toBe('');
      return remote.git('rev-parse', `${staging}^{tree}`);
    },
    storeKeys: async () => {
      const out: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await store().scan(cursor, 'COUNT', 1000);
        cursor = next;
        out.push(...batch);
      } while (cursor !== '0');
      return out;
    },
  };
}

/**
 * Three worker hosts on one machine (`startCluster`): each is the built `orch host` in a network
 * namespace of its own, seeing only its own work directory, reaching Redis and the git remote (a
 * bare repository behind a real sshd) over a bridge. The test adds the attempts the way the
 * supervisor does, with `BullWorkerRuntime`, and reads what comes back through Redis and the remote.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stagingBranch, taskBranch, type WorkerSpec } from '@orch/engine';
import { startCluster, type Cluster } from '@orch/test-utils';
import type { Redis } from 'ioredis';
import { connectStore, storeFromUrl, type StoreOptions } from '../src/connection.js';
import { trustedHosts } from '../src/host-identity.js';
import { listHosts } from '../src/hosts.js';
import { keysFor } from '../src/keys.js';
import { BullWorkerRuntime, type AttemptPlacement } from '../src/worker-runtime.js';

const run = 'r1';
const staging = stagingBranch(run);
const keys = keysFor('orch');
const identity = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@orch.invalid',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@orch.invalid',
};
/** A shell attempt: says where it runs, checks its dependency's file, writes its own, commits. */
const script = (id: string, opts: { needs?: string; sleep?: number } = {}): string[] => [
  'sh',
  '-c',
  [
    `echo started-${id} on $ORCH_HOST`,
    opts.sleep ? `sleep ${opts.sleep}` : 'true',
    opts.needs ? `test -f ${opts.needs}.txt` : 'true',
    `printf '%s\\n' ${id} > ${id}.txt && git add ${id}.txt && git commit -qm ${id}`,
    `echo done-${id} on $ORCH_HOST`,
  ].join(' && '),
];
const worker = (id: string): string => `orch-${run}-${id}`;
const spec = (id: string, argv: string[]): WorkerSpec => ({
  name: worker(id),
  cwd: '/nonexistent-on-the-supervisor',
  argv,
  env: { ...identity, ORCH_RUN: run, ORCH_TASK: id },
  logFile: '/nonexistent-on-the-supervisor/log',
});
const until = async (what: string, ok: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> => {
  for (const end = Date.now() + timeoutMs; Date.now() < end;) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
};

let c: Cluster;
let base: string;
let store: StoreOptions;
let conn: Redis;
let rt: BullWorkerRuntime;
const places = new Map<string, AttemptPlacement>();

beforeAll(async () => {
  c = await startCluster({ hosts: 3 });
  base = (await c.seed({ 'README.md': '# app\n' })).base;
  await c.remote.git('update-ref', `refs/heads/${staging}`, base);
  // The test is the supervisor's side: it reaches the same Redis through the loopback relay.
  store = {
    ...(await storeFromUrl(c.redis.localUrl, { ORCH_REDIS_PASSWORD: c.redis.password })),
    prefix: 'orch',
  };
  conn = await connectStore(store);
  rt = new BullWorkerRuntime({
    store,
    redis: conn,
    keys,
    run,
    trusted: trustedHosts(await c.enroll()),
    placement: (s) => {
      const p = places.get(s.name);
      if (!p) throw new Error(`no placement for ${s.name}`);
      return p;
    },
  });
  // One SSH connection per host, shared by its fetches and pushes (the harness test covers plain ssh).
  for (const h of c.hosts) c.startHost(h, { slots: 1, lease: 2, env: c.gitEnvShared });
  await until('three hosts', async () => (await listHosts(conn, keys)).length === 3);
}, 120_000);

afterAll(async () => {
  await rt?.close();
  conn?.disconnect();
  await c?.cleanup();
});

/** Starts the attempts, waits for each, checks it ran and pushed; returns id → [host, head]. */
async function wave(
  tasks: { id: string; from?: { id: string; head: string }; sleep?: number }[],
): Promise<Map<string, { host: string; head: string }>> {
  for (const t of tasks) {
    places.set(worker(t.id), {
      task: t.id,
      attempt: 1,
      baseRef: t.from ? taskBranch(run, t.from.id) : staging,
      base: t.from ? t.from.head : base,
      branch: taskBranch(run, t.id),
      longestPath: 1,
    });
    await rt.start(
      spec(t.id, script(t.id, { ...(t.from ? { needs: t.from.id } : {}), sleep: t.sleep ?? 0 })),
    );
  }
  const out = new Map<string, { host: string; head: string }>();
  for (const t of tasks) {
    await rt.waitForExit(worker(t.id), { timeoutMs: 60_000 });
    expect(await rt.state(worker(t.id))).toEqual({ exists: true, dead: true, exitStatus: 0 });
    const rec = await rt.describe(worker(t.id));
    const host = rec?.host ?? '';
    expect(c.hosts).toContain(host);
    expect(await rt.outputTail({ name: worker(t.id) }, 5)).toContain(`done-${t.id} on ${host}`);
    // The host pushed the task branch over SSH: the remote has exactly the commit it reported.
    expect(await c.remote.git('rev-parse', `refs/heads/${taskBranch(run, t.id)}`)).toBe(rec?.head);
    out.set(t.id, { host, head: rec?.head ?? '' });
  }
  return out;
}

describe('orch host in three network namespaces', () => {
  it('12 attempts in 3 waves run across the three hosts; each host fetches its base and pushes its task branch over SSH', async () => {
    const lanes = [0, 1, 2, 3];
    // Wave 1 from staging (a second each, so every host is busy at once); waves 2 and 3 each from
    // the task before it in the same lane, whose branch another host may have pushed.
    const w1 = await wave(lanes.map((i) => ({ id: `w1t${i}`, sleep: 1 })));
    const w2 = await wave(
      lanes.map((i) => ({ id: `w2t${i}`, from: { id: `w1t${i}`, head: w1.get(`w1t${i}`)?.head ?? '' } })),
    );
    const w3 = await wave(
      lanes.map((i) => ({ id: `w3t${i}`, from: { id: `w2t${i}`, head: w2.get(`w2t${i}`)?.head ?? '' } })),
    );
    const all = new Map([...w1, ...w2, ...w3]);
    expect(new Set([...all.values()].map((x) => x.host))).toEqual(new Set(c.hosts));
    for (const i of lanes) {
      const files = await c.remote.git('ls-tree', '--name-only', `refs/heads/${taskBranch(run, `w3t${i}`)}`);
      expect(files.split('\n').sort()).toEqual(['README.md', `w1t${i}.txt`, `w2t${i}.txt`, `w3t${i}.txt`]);
      // Each lane's branches are one line of history: wave 3 on wave 2 on wave 1 on the base.
      expect(
        await c.remote.git('rev-list', '--count', `${base}..refs/heads/${taskBranch(run, `w3t${i}`)}`),
      ).toBe('3');
    }
    const branches = await c.remote.git(
      'for-each-ref',
      '--format=%(refname:short)',
      `refs/heads/orch/${run}/`,
    );
    expect(branches.split('\n').sort()).toEqual(
      [...[...all.keys()].map((t) => taskBranch(run, t)), staging].sort(),
    );
    // No host left anything on the supervisor's side: the remote's main is untouched.
    expect(await c.remote.git('rev-parse', 'refs/heads/main')).toBe(base);
  }, 120_000);

  it('a host killed mid-attempt (every process in its namespace, then the namespace): the attempt runs again on another host, and only its history is left in Redis', async () => {
    const id = 'slow';
    places.set(worker(id), {
      task: id,
      attempt: 1,
      baseRef: staging,
      base,
      branch: taskBranch(run, id),
      longestPath: 1,
    });
    await rt.start(spec(id, script(id, { sleep: 3 })));
    await until('the attempt to start', async () =>
      (await rt.outputTail({ name: worker(id) }, 5)).includes(`started-${id} on`),
    );
    const victim = (await rt.describe(worker(id)))?.host ?? '';
    expect(c.hosts).toContain(victim);
    await c.kill(victim);

    await rt.waitForExit(worker(id), { timeoutMs: 60_000 });
    expect(await rt.state(worker(id))).toEqual({ exists: true, dead: true, exitStatus: 0 });
    const rec = await rt.describe(worker(id));
    const heir = rec?.host ?? '';
    expect(c.hosts.filter((h) => h !== victim)).toContain(heir);
    expect(await rt.outputTail({ name: worker(id) }, 5)).toContain(`done-${id} on ${heir}`);
    expect(await c.remote.git('rev-parse', `refs/heads/${taskBranch(run, id)}`)).toBe(rec?.head);
    expect(await c.remote.git('ls-tree', '--name-only', `refs/heads/${taskBranch(run, id)}`)).toContain(
      `${id}.txt`,
    );

    // The lost host's heartbeat record expires; then nothing in Redis is about it any more: no key
    // named after it, not in the hosts set, no BullMQ worker connection. (Finished jobs' results
    // naming it are the history, kept as for any host.)
    await until(
      'the lost host to drop out',
      async () => !(await listHosts(conn, keys)).some((h) => h.name === victim),
    );
    expect((await listHosts(conn, keys)).map((h) => h.name).sort()).toEqual(
      c.hosts.filter((h) => h !== victim),
    );
    expect(await conn.sismember(keys.hosts(), victim)).toBe(0);
    const named = new RegExp(`(^|[^a-z0-9])${victim}($|[^a-z0-9])`);
    const scanKeys = async (): Promise<string[]> => {
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await conn.scan(cursor, 'COUNT', 1000);
        cursor = next;
        found.push(...batch);
      } while (cursor !== '0');
      return found;
    };
    // The heir's own lock on the job goes when BullMQ moves the job to completed, a moment after
    // the record says exited; a lock that stays (the lost host's) fails the bounded wait.
    await until('no job lock left', async () => !(await scanKeys()).some((k) => k.endsWith(':lock')));
    const keyNames = await scanKeys();
    expect(keyNames.filter((k) => named.test(k))).toEqual([]);
    expect(keyNames.filter((k) => k.endsWith(':lock'))).toEqual([]);
    const workers = await rt.queue.getWorkers();
    expect(workers.map((w) => String(w.name)).filter((n) => named.test(n))).toEqual([]);
  }, 120_000);
});

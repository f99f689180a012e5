#!/usr/bin/env node
// Worker hosts (`pnpm bench:hosts`): the multi-host harness of the tests (test-utils' startCluster:
// hosts as network namespaces on a bridge, Redis and an SSH git remote on a namespace of their own),
// `orch host` with 4 slots on 1, 2 and 3 hosts, and a plan of 24 one-second shell attempts in 3
// waves of 8 (each attempt of a wave starts from the branch of one of the wave before, pushed by
// whichever host ran it). The attempts are added with BullWorkerRuntime and followed through Redis,
// the way the supervisor's launch does: there is no distributed `orch run` yet, so merges and
// verification are not in these figures. Measured: the makespan against the zero-overhead schedule
// of the same DAG and slots; dispatch latency (job added → the attempt's shell running on a host,
// from the time it prints); the time from a host's loss (every process of its namespace killed) to
// its attempts running on another host. Needs root (network namespaces). `--smoke`: 1 host, 3
// attempts, no host loss. `--json`: for run-all.mjs. Build first (`pnpm build`).
import { join } from 'node:path';
import {
  assertBuilt,
  median,
  ms,
  parseFlags,
  quantile,
  report,
  root,
  sec,
  zeroOverheadMakespan,
} from './lib.mjs';

const flags = parseFlags();
assertBuilt();
const dist = (pkg) => join(root, 'packages', pkg, 'dist', 'index.js');
const { startCluster } = await import(dist('test-utils'));
const { BullWorkerRuntime, connectStore, keysFor, listHosts, storeFromUrl } = await import(
  dist('distributed')
);
const { stagingBranch, taskBranch } = await import(dist('engine'));

const SLOTS = 4;
const LEASE_S = 3;
const TASK_S = 1;
const WAVES = flags.smoke ? 1 : 3;
const PER_WAVE = flags.smoke ? 3 : 8;
const ROUNDS = flags.smoke ? [1] : [1, 2, 3];
const identity = {
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@orch.invalid',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@orch.invalid',
};
const sleep = (t) => new Promise((r) => setTimeout(r, t));
async function until(what, ok, timeoutMs = 60_000) {
  for (const end = Date.now() + timeoutMs; Date.now() < end;) {
    if (await ok()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}
/** The attempt prints when its shell starts (ms since the epoch, this machine's one clock). */
const attempt = (id, parent, seconds) => [
  'sh',
  '-c',
  [
    `echo "start $(date +%s%3N) on $ORCH_HOST"`,
    `sleep ${seconds}`,
    parent ? `test -f ${parent}.txt` : 'true',
    `echo ${id} > ${id}.txt && git add ${id}.txt && git commit -qm ${id}`,
  ].join(' && '),
];
/** Every `start <ms> on <host>` line of an attempt's output tail. */
const starts = (tail) =>
  [...tail.matchAll(/^start (\d+) on (\S+)$/gm)].map((m) => ({ at: Number(m[1]), host: m[2] }));

const tasks = [];
for (let w = 0; w < WAVES; w++) {
  for (let i = 0; i < PER_WAVE; i++) {
    tasks.push({ id: `w${w}t${i}`, depends_on: w === 0 ? [] : [`w${w - 1}t${i}`], depth: WAVES - w });
  }
}

const c = await startCluster({ hosts: Math.max(...ROUNDS) });
const rows = [];
let conn;
const runtimes = [];
try {
  const { base } = await c.seed({ 'README.md': '# bench\n' });
  const store = {
    ...(await storeFromUrl(c.redis.localUrl, { ORCH_REDIS_PASSWORD: c.redis.password })),
    prefix: 'orch',
  };
  const keys = keysFor('orch');
  conn = await connectStore(store);
  const runtime = (run, placements) => {
    const rt = new BullWorkerRuntime({
      store,
      redis: conn,
      keys,
      run,
      placement: (s) => placements.get(s.name),
    });
    runtimes.push(rt);
    return rt;
  };
  const latencies = [];
  const hostProcs = new Map();
  /** `orch host` on the first n hosts (restarted when `env` changes the way they reach the remote). */
  const ensureHosts = async (n, env) => {
    for (const h of c.hosts.slice(0, n)) {
      const p = hostProcs.get(h);
      if (p && p.env === env) continue;
      if (p) {
        p.child.kill('SIGTERM');
        await p.child;
      }
      hostProcs.set(h, {
        env,
        child: c.startHost(h, { slots: SLOTS, lease: LEASE_S, ...(env ? { env } : {}) }),
      });
    }
    await until(`${n} hosts`, async () => (await listHosts(conn, keys)).length === n);
  };

  /** The plan on `n` hosts; returns the makespan in seconds (dispatch latencies go to `into`). */
  const runPlan = async (run, n, into) => {
    await c.remote.git('update-ref', `refs/heads/${stagingBranch(run)}`, base);
    const placements = new Map();
    const rt = runtime(run, placements);
    const worker = (id) => `orch-${run}-${id}`;
    const added = new Map();
    const heads = new Map();
    const running = new Set();
    const t0 = Date.now();
    let end = t0;
    const launch = async (t) => {
      const parent = t.depends_on[0];
      placements.set(worker(t.id), {
        task: t.id,
        attempt: 1,
        baseRef: parent ? taskBranch(run, parent) : stagingBranch(run),
        base: parent ? heads.get(parent) : base,
        branch: taskBranch(run, t.id),
        longestPath: t.depth,
      });
      added.set(t.id, Date.now());
      running.add(t.id);
      await rt.start({
        name: worker(t.id),
        cwd: '/nonexistent',
        argv: attempt(t.id, parent, TASK_S),
        env: { ...identity, ORCH_RUN: run, ORCH_TASK: t.id },
        logFile: '/nonexistent/log',
      });
    };
    // Like the supervisor: every task whose dependency is in starts at once; the hosts' slots limit
    // how many run, and the queue's priority (longest remaining path) picks which.
    for (const t of tasks.filter((x) => x.depends_on.length === 0)) await launch(t);
    for (const deadline = Date.now() + 10 * 60_000; heads.size < tasks.length;) {
      if (Date.now() > deadline) throw new Error(`${run}: the plan on ${n} hosts did not finish`);
      for (const id of [...running]) {
        const st = await rt.state(worker(id));
        if (!st.dead) continue;
        running.delete(id);
        const rec = await rt.describe(worker(id));
        if (st.exitStatus !== 0 || !rec?.head) {
          throw new Error(
            `${id} ended with ${st.exitStatus} (${rec?.error ?? ''}): ${await rt.outputTail({ name: worker(id) }, 10)}`,
          );
        }
        end = Date.now();
        heads.set(id, rec.head);
        const first = starts(await rt.outputTail({ name: worker(id) }, 20))[0];
        if (first) into.push(first.at - added.get(id));
        for (const t of tasks.filter((x) => x.depends_on.includes(id))) await launch(t);
      }
      await sleep(50);
    }
    return (end - t0) / 1000;
  };
  const plan = `${tasks.length} one-second attempts (${WAVES} wave(s) of ${PER_WAVE})`;

  for (const n of ROUNDS) {
    await ensureHosts(n);
    const makespan = await runPlan(`hosts${n}`, n, latencies);
    const ideal = zeroOverheadMakespan(tasks, n * SLOTS, TASK_S);
    rows.push({
      metric: `${plan} on ${n} host(s) × ${SLOTS} slots: makespan / zero-overhead schedule (BullWorkerRuntime directly, no \`orch run --store\` yet)`,
      measured: `${sec(makespan)} / ${sec(ideal)} (${(makespan / ideal).toFixed(2)}×)`,
      goal: '',
    });
  }
  rows.push({
    metric: `dispatch latency, job added → attempt's shell running on a host (fetch over SSH, worktree, tmux), p50 / p95 of ${latencies.length}`,
    measured: `${ms(median(latencies))} / ${ms(quantile(latencies, 0.95))}`,
    goal: '',
  });

  if (!flags.smoke) {
    // The same on 3 hosts whose ssh shares one connection per host (OpenSSH's ControlMaster): every
    // attempt makes three SSH connections (fetch, ls-remote, push), each a full handshake otherwise.
    const n = Math.max(...ROUNDS);
    await ensureHosts(n, c.gitEnvShared);
    const muxLatencies = [];
    const makespan = await runPlan(`shared${n}`, n, muxLatencies);
    const ideal = zeroOverheadMakespan(tasks, n * SLOTS, TASK_S);
    rows.push({
      metric: `${plan} on ${n} hosts × ${SLOTS} slots, ssh sharing one connection per host (ControlMaster): makespan / zero-overhead; dispatch p50 / p95`,
      measured: `${sec(makespan)} / ${sec(ideal)} (${(makespan / ideal).toFixed(2)}×); ${ms(median(muxLatencies))} / ${ms(quantile(muxLatencies, 0.95))}`,
      goal: '',
    });
  }

  if (!flags.smoke) {
    // A host's loss: 8 attempts running on 3 hosts of 4 slots; the host with the most of them is
    // killed (every process of its namespace, then the namespace); the other two have exactly as
    // many free slots as it had attempts.
    const run = 'loss';
    await c.remote.git('update-ref', `refs/heads/${stagingBranch(run)}`, base);
    const placements = new Map();
    const rt = runtime(run, placements);
    const ids = Array.from({ length: 8 }, (_, i) => `l${i}`);
    for (const id of ids) {
      placements.set(`orch-${run}-${id}`, {
        task: id,
        attempt: 1,
        baseRef: stagingBranch(run),
        base,
        branch: taskBranch(run, id),
        longestPath: 1,
      });
      await rt.start({
        name: `orch-${run}-${id}`,
        cwd: '/nonexistent',
        argv: attempt(id, undefined, 8),
        env: { ...identity, ORCH_RUN: run, ORCH_TASK: id },
        logFile: '/nonexistent/log',
      });
    }
    const where = new Map();
    await until('8 attempts running', async () => {
      for (const id of ids) {
        const s = starts(await rt.outputTail({ name: `orch-${run}-${id}` }, 20));
        if (s[0]) where.set(id, s[0].host);
      }
      return where.size === ids.length;
    });
    const count = (h) => [...where.values()].filter((x) => x === h).length;
    const victim = [...c.hosts].sort((a, b) => count(b) - count(a))[0];
    const lost = ids.filter((id) => where.get(id) === victim);
    const killedAt = Date.now();
    await c.kill(victim);
    const back = new Map();
    await until('the lost attempts running elsewhere', async () => {
      for (const id of lost) {
        const again = starts(await rt.outputTail({ name: `orch-${run}-${id}` }, 20)).find(
          (s) => s.host !== victim,
        );
        if (again && !back.has(id)) back.set(id, again.at - killedAt);
      }
      return back.size === lost.length;
    });
    const gaps = [...back.values()];
    rows.push({
      metric: `a host's loss → its ${lost.length} attempt(s) running on other hosts (lease ${LEASE_S} s), median / worst`,
      measured: `${ms(median(gaps))} / ${ms(Math.max(...gaps))}`,
      goal: `< ${(LEASE_S + 2) * 1000} ms (the lease + 2 s)`,
    });
  }
} finally {
  for (const rt of runtimes) await rt.close().catch(() => undefined);
  conn?.disconnect();
  await c.cleanup();
}
report('worker hosts (network namespaces, SSH remote)', rows, flags);

#!/usr/bin/env node
// Worker hosts (`pnpm bench:hosts`): whole distributed runs, `orch run --store redis://… --remote
// ssh://…` (the built CLI) on the multi-host harness of the tests (test-utils' startCluster: hosts as
// network namespaces on a bridge, Redis and an SSH git remote on a namespace of their own, the
// supervisor in its checkout on a node of its own), with `orch host --slots 4` on 1, 2 and 3 hosts.
// The hosts reach the remote with the machine's ssh configuration, so they share one SSH connection
// each themselves. The plan: 24 one-second shell tasks in 3 waves of 8 (each task after one of the
// wave before). Measured: the makespan (first attempt queued → last merge, from the run's journal)
// against the zero-overhead schedule of the same DAG and slots, and the whole `orch run`; dispatch
// latency (task.started → the attempt's shell running on a host, from the time it writes into its
// file); the time from a host's loss (every process of its namespace killed) to its attempts running
// on another host. Needs root (network namespaces). `--smoke`: 1 host, 3 tasks, no host loss.
// `--json`: for run-all.mjs. Build first (`pnpm build`).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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
const { startCluster, trustedHostsYaml } = await import(dist('test-utils'));
const { RedisRunLog, connectStore, keysFor, listHosts, storeFromUrl } = await import(dist('distributed'));

const SLOTS = 4;
const LEASE_S = 3;
const TASK_S = 1;
const LOSS_TASK_S = 8;
const WAVES = flags.smoke ? 1 : 3;
const PER_WAVE = flags.smoke ? 3 : 8;
const ROUNDS = flags.smoke ? [1] : [1, 2, 3];
const RUN_TIMEOUT_MS = 10 * 60_000;
const sleep = (t) => new Promise((r) => setTimeout(r, t));
async function until(what, ok, timeoutMs = 120_000) {
  for (const end = Date.now() + timeoutMs; Date.now() < end;) {
    if (await ok()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const tasks = [];
for (let w = 0; w < WAVES; w++) {
  for (let i = 0; i < PER_WAVE; i++) {
    tasks.push({ id: `w${w}t${i}`, depends_on: w === 0 ? [] : [`w${w - 1}t${i}`] });
  }
}
/** A shell task that writes when its shell started (ms since the epoch, the machine's one clock). */
const taskYaml = (t, seconds) => `
  - id: ${t.id}
    description: write src/${t.id}.txt
    agent: shell
    files_write: [src/${t.id}.txt]
    depends_on: [${t.depends_on.join(', ')}]
    verification:
      - command: test -s src/${t.id}.txt
        type: check
    run: |
      mkdir -p src
      echo "start $(date +%s%3N) on $ORCH_HOST" > src/${t.id}.txt
      sleep ${seconds}
      git add -A && git commit -qm ${t.id}
      orch task done --summary done`;
const plan = `tasks:${tasks.map((t) => taskYaml(t, TASK_S)).join('')}\n`;
const lossTasks = Array.from({ length: 8 }, (_, i) => ({ id: `l${i}`, depends_on: [] }));
const lossPlan = `tasks:${lossTasks.map((t) => taskYaml(t, LOSS_TASK_S)).join('')}\n`;

const c = await startCluster({ hosts: Math.max(...ROUNDS) });
const rows = [];
let conn;
try {
  await c.seed({ 'README.md': '# bench\n' });
  // Each checkout's config trusts the hosts (enrolled with `orch host --identity` on each).
  const trustedYaml = trustedHostsYaml(await c.enroll());
  const keys = keysFor('orch');
  conn = await connectStore(await storeFromUrl(c.redis.localUrl, { ORCH_REDIS_PASSWORD: c.redis.password }));
  const started = new Set();
  /** `orch host` on the first n hosts. */
  const ensureHosts = async (n) => {
    for (const h of c.hosts.slice(0, n)) {
      if (started.has(h)) continue;
      writeFileSync(join(c.dir(h), '.gitconfig'), `[user]\n\tname = ${h}\n\temail = ${h}@orch.invalid\n`);
      c.startHost(h, { slots: SLOTS, lease: LEASE_S, ssh: 'system' });
      started.add(h);
    }
    await until(`${n} hosts`, async () => (await listHosts(conn, keys)).length === n);
  };
  /** A checkout of the remote's main of its own on the supervisor's node, with the plan in it. */
  const checkout = (name, planText) => {
    const dir = join(c.dir('sup'), name);
    const git = (...args) => execFileSync('git', args, { cwd: dir, stdio: 'pipe', timeout: 30_000 });
    execFileSync('git', ['clone', '-q', '--branch', 'main', c.remote.path, dir], { stdio: 'pipe' });
    git('config', 'user.name', 'bench');
    git('config', 'user.email', 'bench@orch.invalid');
    git('remote', 'set-url', 'origin', c.remote.url);
    writeFileSync(join(dir, 'tasks.yaml'), planText);
    writeFileSync(join(dir, 'orch.yaml'), trustedYaml);
    return dir;
  };
  const runArgs = [
    'run',
    'tasks.yaml',
    '--store',
    c.redis.url,
    '--remote',
    c.remote.url,
    '--yes',
    '--no-tui',
    '--json',
  ];
  /** The run's journal, and each task's shell start (ms) as its merged file says. */
  const readRun = async (run, ids) => {
    const events = await new RedisRunLog(conn, keys, run).history();
    const startOf = new Map();
    for (const id of ids) {
      const text = await c.remote.git('show', `refs/heads/orch/${run}/staging:src/${id}.txt`);
      const m = /^start (\d+) on (\S+)$/m.exec(text);
      if (m) startOf.set(id, { at: Number(m[1]), host: m[2] });
    }
    return { events, startOf };
  };
  const firstTs = (events, type, task) => {
    const e = events.find((x) => x.type === type && x.task === task);
    return e ? Date.parse(e.ts) : NaN;
  };
  const latencies = [];
  for (const n of ROUNDS) {
    await ensureHosts(n);
    const repo = checkout(`hosts${n}`, plan);
    const t0 = Date.now();
    const r = await c.orch('sup', runArgs, { cwd: repo, timeoutMs: RUN_TIMEOUT_MS });
    const whole = (Date.now() - t0) / 1000;
    const state = JSON.parse(r.stdout || '{}');
    if (r.exitCode !== 0 || state.outcome !== 'succeeded') {
      throw new Error(
        `orch run on ${n} host(s) ended with ${r.exitCode}: ${r.stderr.slice(-2000)} ${r.stdout.slice(-2000)}`,
      );
    }
    const { events, startOf } = await readRun(
      state.run,
      tasks.map((t) => t.id),
    );
    const queued = Math.min(...tasks.map((t) => firstTs(events, 'task.started', t.id)));
    const lastMerge = Math.max(...tasks.map((t) => firstTs(events, 'task.merged', t.id)));
    for (const t of tasks) {
      const s = startOf.get(t.id);
      if (s) latencies.push(s.at - firstTs(events, 'task.started', t.id));
    }
    const makespan = (lastMerge - queued) / 1000;
    const ideal = zeroOverheadMakespan(tasks, n * SLOTS, TASK_S);
    rows.push({
      metric: `${tasks.length} one-second shell tasks (${WAVES} wave(s) of ${PER_WAVE}), \`orch run --store --remote\` on ${n} host(s) × ${SLOTS} slots: makespan (first attempt queued → last merge) / zero-overhead schedule; the whole \`orch run\``,
      measured: `${sec(makespan)} / ${sec(ideal)} (${(makespan / ideal).toFixed(2)}×); ${sec(whole)}`,
      goal: '',
    });
  }
  rows.push({
    metric: `dispatch latency, job queued (task.started) → the attempt's shell running on a host (job taken, fetch over SSH, worktree, tmux, wrapper), p50 / p95 of ${latencies.length}`,
    measured: `${ms(median(latencies))} / ${ms(quantile(latencies, 0.95))}`,
    goal: '',
  });

  if (!flags.smoke) {
    // A host's loss: 8 tasks of 8 s running on 3 hosts of 4 slots; the host with the most of them
    // is killed (every process of its namespace, then the namespace); the other two have as many
    // free slots as it had attempts.
    const n = Math.max(...ROUNDS);
    await ensureHosts(n);
    const before = (await conn.zrange(keys.runs(), '-1', '-1'))[0];
    const repo = checkout('loss', lossPlan);
    const supervisor = c.spawnOrch('sup', runArgs, { cwd: repo, timeoutMs: RUN_TIMEOUT_MS });
    let run;
    let running = new Map();
    await until('8 attempts placed on hosts', async () => {
      run = (await conn.zrange(keys.runs(), '-1', '-1'))[0];
      if (!run || run === before) return false;
      const events = await new RedisRunLog(conn, keys, run).history();
      const placed = new Map(events.filter((e) => e.type === 'task.placed').map((e) => [e.task, e.host]));
      // Still running: placed, and neither reported nor ended yet (the supervisor may start the
      // last ones after the first finished on a loaded machine).
      const ended = new Set(
        events.filter((e) => e.type === 'task.reported' || e.type === 'task.exited').map((e) => e.task),
      );
      running = new Map([...placed].filter(([t]) => !ended.has(t)));
      return placed.size === lossTasks.length;
    });
    const count = (h) => [...running.values()].filter((x) => x === h).length;
    const victim = [...c.hosts].sort((a, b) => count(b) - count(a))[0];
    const lost = [...running].filter(([, h]) => h === victim).map(([t]) => t);
    if (lost.length === 0) throw new Error('no attempt was still running when a host was to be lost');
    const killedAt = Date.now();
    await c.kill(victim);
    const r = await supervisor;
    const state = JSON.parse(String(r.stdout) || '{}');
    if (r.exitCode !== 0 || state.outcome !== 'succeeded') {
      throw new Error(`the run with a lost host ended with ${r.exitCode}: ${String(r.stderr).slice(-2000)}`);
    }
    const { startOf } = await readRun(run, lost);
    const gaps = lost.map((id) => (startOf.get(id)?.at ?? NaN) - killedAt);
    rows.push({
      metric: `a host's loss mid-run (\`orch run\`, 3 hosts × ${SLOTS} slots) → its ${lost.length} attempt(s) running on other hosts (lease ${LEASE_S} s), median / worst`,
      measured: `${ms(median(gaps))} / ${ms(Math.max(...gaps))}`,
      goal: `< ${(LEASE_S + 2) * 1000} ms (the lease + 2 s)`,
    });
  }
} finally {
  conn?.disconnect();
  await c.cleanup();
}
report('worker hosts (network namespaces, SSH remote)', rows, flags);

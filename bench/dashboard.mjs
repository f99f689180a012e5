#!/usr/bin/env node
// Dashboard speed: time to first frame of `orch dashboard --once` on a synthetic 30-task journal,
// and the CPU a live dashboard uses while its journal receives events (and while idle).
// Needs a build (`pnpm build`) and tmux (the live dashboard needs a terminal: it runs in a
// private tmux server). Prints a Markdown table.
//
// Env: ORCH_BENCH_DASHBOARD_SECONDS  length of the live window (default 60)
//      ORCH_BENCH_DASHBOARD_RATE     journal events per second during it (default 3)
//      ORCH_BENCH_DASHBOARD_RUNS     --once runs to time (default 10)
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(root, 'packages/cli/dist/bin.js');
const { appendEvent, runPaths, setCurrentRun } = await import(join(root, 'packages/store/dist/index.js'));

// --smoke: the smallest case, only to show the benchmark starts and completes.
const SMOKE = process.argv.includes('--smoke');
const SECONDS = Number(process.env.ORCH_BENCH_DASHBOARD_SECONDS ?? (SMOKE ? 4 : 60));
const RATE = Number(process.env.ORCH_BENCH_DASHBOARD_RATE ?? 3);
const RUNS = Number(process.env.ORCH_BENCH_DASHBOARD_RUNS ?? (SMOKE ? 2 : 10));
const IDLE_SECONDS = Math.min(SECONDS, 15);
const TASKS = 30;
const RUN = '20250101-100000-beef';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function makeRepo() {
  const dir = await mkdtemp(join(tmpdir(), 'orch-bench-dash-'));
  const git = (...a) => execFileSync('git', a, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('-c', 'user.name=b', '-c', 'user.email=b@b.invalid', 'commit', '-q', '--allow-empty', '-m', 'init');
  return dir;
}

/** 30 tasks: 18 merged, 8 running, 4 pending, each with usage and progress, about 400 events. */
async function writeJournal(repo) {
  const runDir = runPaths(repo, RUN).dir;
  const ids = Array.from({ length: TASKS }, (_, i) => `task-${String(i + 1).padStart(2, '0')}`);
  const t0 = Date.now() - 30 * 60_000;
  const ts = (s) => new Date(t0 + s * 1000).toISOString();
  await appendEvent(runDir, {
    type: 'run.started',
    ts: ts(0),
    run: RUN,
    request: 'Synthetic benchmark run of thirty tasks',
    repoRoot: repo,
    planPath: 'tasks.yaml',
    base: 'main',
    baseCommit: 'a'.repeat(40),
    staging: `orch/${RUN}/staging`,
    stagingCommit: 'b'.repeat(40),
    envHash: 'e',
    maxWorkers: 8,
    tasks: ids.map((id, i) => ({
      id,
      dependsOn: i >= 26 ? [ids[i - 26]] : [],
      agent: 'claude',
      model: 'sonnet',
      description: `work on ${id}`,
    })),
  });
  await appendEvent(runDir, { type: 'run.phase', ts: ts(1), phase: 'running' });
  await appendEvent(runDir, { type: 'supervisor.started', ts: ts(1), pid: process.pid });
  for (const [i, id] of ids.entries()) {
    if (i >= 26) continue;
    const s = 2 + i * 30;
    await appendEvent(runDir, { type: 'task.ready', ts: ts(s), task: id });
    await appendEvent(runDir, {
      type: 'task.started',
      ts: ts(s + 1),
      task: id,
      attempt: 1,
      session: `orch-bench__${id}`,
      agent: 'claude',
      model: 'sonnet',
      promptPath: 'p.md',
      logPath: join(runDir, 'logs', `${id}.log`),
    });
    for (let k = 1; k <= 8; k++) {
      await appendEvent(runDir, {
        type: 'task.activity',
        ts: ts(s + 1 + k),
        task: id,
        usage: {
          inputTokens: 1000 * k,
          outputTokens: 300 * k,
          cacheReadTokens: 5000 * k,
          cacheWriteTokens: 0,
          contextTokens: 12_000 * k,
          contextWindow: 200_000,
          costUsd: 0.05 * k,
        },
        activity: `step ${k}: editing src/${id}.ts`,
      });
    }
    await appendEvent(runDir, { type: 'task.progress', ts: ts(s + 12), task: id, message: `${id} halfway` });
    if (i < 18) {
      await appendEvent(runDir, { type: 'task.verifying', ts: ts(s + 20), task: id });
      await appendEvent(runDir, { type: 'task.merging', ts: ts(s + 25), task: id });
      await appendEvent(runDir, {
        type: 'task.merged',
        ts: ts(s + 26),
        task: id,
        commit: randomBytes(20).toString('hex'),
        stagingBefore: 'b'.repeat(40),
        evidence: { source: 'merge', at: ts(s + 26) },
      });
    }
  }
  await setCurrentRun(repo, RUN);
  return { runDir, running: ids.slice(18, 26) };
}

// Reports the child's own CPU time on stderr as it exits (wall time on a loaded machine says little).
const CPU_HOOK = `data:text/javascript,process.on('exit',()=>process.stderr.write('cpu-us '+JSON.stringify(process.cpuUsage())))`;

/** Wall time from spawn to the first stdout byte and to exit, and the CPU time of the process. */
function timeOnce(repo, args = ['dashboard', '--once']) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let first;
    let err = '';
    const child = spawn(process.execPath, ['--import', CPU_HOOK, BIN, ...args], {
      cwd: repo,
      env: { ...process.env, NO_COLOR: '1' },
    });
    child.stdout.once('data', () => (first = performance.now() - start));
    child.stdout.resume();
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`orch ${args.join(' ')} exited ${code}: ${err}`));
      const m = /cpu-us (\{.*\})/.exec(err);
      const cpu = m ? JSON.parse(m[1]) : { user: NaN, system: NaN };
      resolve({ first: first ?? NaN, total: performance.now() - start, cpu: (cpu.user + cpu.system) / 1000 });
    });
  });
}

/** CPU seconds used so far by a process (Linux /proc, else ps). */
function cpuSeconds(pid) {
  const stat = `/proc/${pid}/stat`;
  if (existsSync(stat)) {
    const fields = readFileSync(stat, 'utf8').split(') ')[1].split(' ');
    const tck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    return (Number(fields[11]) + Number(fields[12])) / tck;
  }
  const t = execFileSync('ps', ['-o', 'time=', '-p', String(pid)])
    .toString()
    .trim();
  const parts = t.split(/[:-]/).map(Number);
  return parts.reduce((acc, p) => acc * 60 + p, 0);
}

async function liveCpu(repo, runDir, running) {
  const socket = `orch-bench-${randomBytes(4).toString('hex')}`;
  const tmux = (...a) => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...a]).toString();
  try {
    tmux(
      'new-session',
      '-d',
      '-s',
      'dash',
      '-x',
      '160',
      '-y',
      '50',
      '-c',
      repo,
      process.execPath,
      BIN,
      'dashboard',
    );
    const pid = Number(tmux('display-message', '-p', '-t', 'dash', '#{pane_pid}').trim());
    const end = Date.now() + 20_000;
    while (!tmux('capture-pane', '-p', '-t', 'dash').includes('LAST MESSAGE')) {
      if (Date.now() > end) throw new Error('the live dashboard never drew its table');
      await sleep(100);
    }
    await sleep(500);
    // Events: usage updates of running workers at RATE per second, like a busy run.
    let cpu0 = cpuSeconds(pid);
    let t = performance.now();
    let n = 0;
    const stop = Date.now() + SECONDS * 1000;
    while (Date.now() < stop) {
      const id = running[n % running.length];
      await appendEvent(runDir, {
        type: 'task.activity',
        task: id,
        usage: { contextTokens: 100_000 + n * 10, contextWindow: 200_000, costUsd: 1 + n / 1000 },
        activity: `event ${n}`,
      });
      n += 1;
      await sleep(1000 / RATE);
    }
    const busy = { cpu: cpuSeconds(pid) - cpu0, wall: (performance.now() - t) / 1000, events: n };
    const shown = Date.now() + 5000;
    while (!tmux('capture-pane', '-p', '-t', 'dash').includes(`event ${n - 1}`)) {
      if (Date.now() > shown) throw new Error('the dashboard did not show the last event');
      await sleep(100);
    }
    cpu0 = cpuSeconds(pid);
    t = performance.now();
    await sleep(IDLE_SECONDS * 1000);
    const idle = { cpu: cpuSeconds(pid) - cpu0, wall: (performance.now() - t) / 1000 };
    return { busy, idle };
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
  }
}

const repo = await makeRepo();
try {
  const { runDir, running } = await writeJournal(repo);
  await timeOnce(repo); // warm the file cache
  const once = [];
  for (let i = 0; i < RUNS; i++) once.push(await timeOnce(repo));
  const firsts = once.map((o) => o.first);
  const baseline = [];
  for (let i = 0; i < RUNS; i++) baseline.push(await timeOnce(repo, ['--version']));
  const live = await liveCpu(repo, runDir, running);
  const pct = (x) => `${((x.cpu / x.wall) * 100).toFixed(2)}%`;
  const ms = (x) => `${Math.round(x)} ms`;
  console.log('| dashboard metric | measured | goal |');
  console.log('|---|---|---|');
  console.log(
    `| time to first frame, \`orch dashboard --once\`, ${TASKS} tasks (median of ${RUNS}) | ${ms(median(firsts))} | < 500 ms |`,
  );
  console.log(`| same, slowest of ${RUNS} | ${ms(Math.max(...firsts))} | |`);
  console.log(`| same, process exit (median) | ${ms(median(once.map((o) => o.total)))} | |`);
  console.log(`| same, CPU time of the process (median) | ${ms(median(once.map((o) => o.cpu)))} | |`);
  console.log(
    `| for comparison: \`orch --version\` first output / CPU (median) | ${ms(median(baseline.map((o) => o.first)))} / ${ms(median(baseline.map((o) => o.cpu)))} | |`,
  );
  console.log(
    `| CPU of a live dashboard, ${live.busy.events} events in ${live.busy.wall.toFixed(0)} s (${RATE}/s) | ${pct(live.busy)} of one core | < 3% |`,
  );
  console.log(
    `| CPU of a live dashboard, idle for ${live.idle.wall.toFixed(0)} s with 8 workers running | ${pct(live.idle)} of one core | |`,
  );
  const [load] = loadavg();
  console.log(`| machine: load average (1 min) / CPU cores | ${load.toFixed(1)} / ${cpus().length} | |`);
} finally {
  await rm(repo, { recursive: true, force: true });
}

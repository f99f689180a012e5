// Helpers shared by the benchmark scripts: generated repositories, running the built CLI with an
// isolated tmux, reading a run's journal, statistics and the machine description.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(root, 'packages/cli/dist/bin.js');

export function assertBuilt() {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm build\` first`);
}

export const median = (xs) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const max = (xs) => (xs.length ? Math.max(...xs) : NaN);
/** The q-quantile (0..1) by the nearest rank. */
export const quantile = (xs, q) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
export const ms = (x) => (Number.isFinite(x) ? `${Math.round(x)} ms` : 'n/a');
export const sec = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} s` : 'n/a');

export function git(cwd, ...args) {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/**
 * A git repository on `main` with `files` small tracked files spread over folders of 100, plus
 * `extra` files (path → content) in the same first commit.
 */
export async function generatedRepo(files, extra = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'orch-bench-'));
  git(dir, 'init', '-q', '-b', 'main');
  for (const [k, v] of [
    ['user.name', 'orch bench'],
    ['user.email', 'bench@orch.invalid'],
    ['commit.gpgsign', 'false'],
    ['gc.auto', '0'],
  ]) {
    git(dir, 'config', k, v);
  }
  for (let i = 0; i < files; i++) {
    const folder = join(dir, 'src', `m${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `f${i % 100}.txt`), `file ${i}\n`);
  }
  for (const [p, c] of Object.entries(extra)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'generated');
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A private TMUX_TMPDIR so orch's tmux servers live apart from the user's; cleanup kills them. */
export async function isolatedTmux() {
  const dir = await mkdtemp(join(tmpdir(), 'orch-bench-tmux-'));
  const env = { TMUX_TMPDIR: dir };
  return {
    env,
    cleanup: async () => {
      const sockets = join(dir, `tmux-${process.getuid?.() ?? 0}`);
      if (existsSync(sockets)) {
        for (const s of readdirSync(sockets)) {
          try {
            execFileSync('tmux', ['-L', s, 'kill-server'], {
              env: { ...process.env, ...env },
              stdio: 'ignore',
            });
          } catch {
            // already gone
          }
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function vmHwmKb(pid) {
  try {
    const m = /VmHWM:\s+(\d+)\s*kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds of a process from /proc/<pid>/stat: its own, and its children's that it waited for. */
function procCpu(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from field 3 (state) on.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const tick = (i) => Number(f[i - 3]) / CLOCK_TICKS;
    return { own: tick(14) + tick(15), ownSys: tick(15), children: tick(16) + tick(17) };
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = 100;

/**
 * Runs the built CLI to completion. On Linux the process's peak resident memory is read from
 * /proc/<pid>/status (VmHWM, a high-water mark, so the last sample before exit is the peak), and
 * CPU time from /proc/<pid>/stat: `cpu.orch` is the `orch` process's own (the supervisor),
 * `cpu.children` what it waited for (git, tmux clients). The workers' processes are children of
 * the tmux server, which does not count them: `bench/startup.mjs` measures those.
 * `ORCH_BENCH_BIN` runs another build of the CLI (an A/B comparison).
 */
export function runOrch(args, { cwd, env }) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [process.env.ORCH_BENCH_BIN || BIN, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let peakKb;
    let cpu;
    const sample = () => {
      const kb = vmHwmKb(child.pid);
      if (kb !== undefined) peakKb = Math.max(peakKb ?? 0, kb);
      const c = procCpu(child.pid);
      if (c) cpu = c;
    };
    const timer = setInterval(sample, 100);
    child.on('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearInterval(timer);
      const cpuSec = cpu ? { orch: cpu.own, orchSys: cpu.ownSys, children: cpu.children } : undefined;
      resolve({ code, stdout, stderr, wallMs: performance.now() - t0, peakKb, cpu: cpuSec });
    });
  });
}

/**
 * `orch run tasks.yaml` in `repo`, `workers` at once, without the TUI; throws with its output
 * unless it exits `expect`. Returns the process's result and the run's journal.
 */
export async function runPlan(repo, workers, env, { expect = 0 } = {}) {
  const r = await runOrch(['run', 'tasks.yaml', '--no-tui', '--yes', '--max-workers', String(workers)], {
    cwd: repo,
    env,
  });
  if (r.code !== expect) throw new Error(`orch run exited ${r.code}:\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  return { ...r, ...readJournal(repo) };
}

/** The run's journal events, with `t` = milliseconds since the epoch. */
export function readJournal(repo) {
  const run = readFileSync(join(repo, '.orchestrator', 'current'), 'utf8').trim();
  const lines = readFileSync(join(repo, '.orchestrator', 'runs', run, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n');
  return { run, events: lines.map((l) => JSON.parse(l)).map((e) => ({ ...e, t: Date.parse(e.ts) })) };
}

/**
 * The makespan of an ideal orchestrator with no overhead: tasks of `durationS` seconds start the
 * moment their dependencies finish, longest remaining path first, at most `cap` at once.
 */
export function zeroOverheadMakespan(tasks, cap, durationS) {
  const rank = new Map();
  const dependents = new Map(tasks.map((t) => [t.id, []]));
  for (const t of tasks) for (const d of t.depends_on) dependents.get(d).push(t.id);
  const rankOf = (id) => {
    if (!rank.has(id)) rank.set(id, durationS + Math.max(0, ...dependents.get(id).map(rankOf)));
    return rank.get(id);
  };
  const running = [];
  let now = 0;
  const done = new Set();
  const started = new Set();
  while (done.size < tasks.length) {
    const ready = tasks
      .filter((t) => !started.has(t.id) && t.depends_on.every((d) => done.has(d)))
      .sort((a, b) => rankOf(b.id) - rankOf(a.id));
    while (running.length < cap && ready.length) {
      const t = ready.shift();
      started.add(t.id);
      running.push({ id: t.id, end: now + durationS });
    }
    running.sort((a, b) => a.end - b.end);
    const next = running.shift();
    now = next.end;
    done.add(next.id);
  }
  return now;
}

export function machine() {
  const v = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return 'not found';
    }
  };
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    git: v('git', ['--version']).replace(/^git version /, ''),
    tmux: v('tmux', ['-V']).replace(/^tmux /, ''),
    os: `${process.platform} ${process.arch}`,
  };
}

export function parseFlags(argv = process.argv.slice(2)) {
  return { smoke: argv.includes('--smoke'), json: argv.includes('--json') };
}

/** The number after `--name` on the command line, or `fallback`. */
export function numberFlag(name, fallback, argv = process.argv.slice(2)) {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} takes a whole number, got ${argv[i + 1]}`);
  return n;
}

/**
 * Per-task phase times from a run's journal: for each pair of events, `to`'s first time minus
 * `from`'s first time, per task that has both (milliseconds).
 */
export function phaseTimes(events, ids, from, to) {
  const first = new Map();
  for (const e of events) {
    if (!e.task) continue;
    const k = `${e.type}\0${e.task}`;
    if (!first.has(k)) first.set(k, e.t);
  }
  return ids.map((id) => first.get(`${to}\0${id}`) - first.get(`${from}\0${id}`)).filter(Number.isFinite);
}

/** `median / worst` of a phase; with `p95`, `p50 / p95 / worst`. */
export function spread(xs, { p95 = false } = {}) {
  return p95
    ? `${ms(median(xs))} / ${ms(quantile(xs, 0.95))} / ${ms(max(xs))}`
    : `${ms(median(xs))} / ${ms(max(xs))}`;
}

/**
 * Merge batch sizes seen in a journal, read defensively (the event's shape may still change): an
 * event whose type names a batch, with its tasks (an array) or a size, once per batch id; else a
 * `batch` field on `task.merged` (an id, or an object with one), tasks counted per batch. 'n/a' when
 * the journal records no batches.
 */
export function batchSizes(events) {
  const sizes = [];
  const seen = new Set();
  for (const e of events) {
    if (!/batch/i.test(e.type)) continue;
    const n = Array.isArray(e.tasks) ? e.tasks.length : typeof e.size === 'number' ? e.size : undefined;
    const id = e.batch ?? e.id;
    if (!n || (id !== undefined && seen.has(JSON.stringify(id)))) continue;
    if (id !== undefined) seen.add(JSON.stringify(id));
    sizes.push(n);
  }
  if (sizes.length === 0) {
    const per = new Map();
    for (const e of events) {
      if (e.type !== 'task.merged' || e.batch === undefined || e.batch === null) continue;
      const b = typeof e.batch === 'object' ? (e.batch.id ?? JSON.stringify(e.batch)) : e.batch;
      per.set(String(b), (per.get(String(b)) ?? 0) + 1);
    }
    sizes.push(...per.values());
  }
  if (sizes.length === 0) return 'n/a (the journal records no merge batches)';
  const count = new Map();
  for (const n of sizes) count.set(n, (count.get(n) ?? 0) + 1);
  const parts = [...count].sort((a, b) => a[0] - b[0]).map(([n, k]) => `${n} ×${k}`);
  return `${parts.join(', ')} (size × batches; largest ${Math.max(...sizes)})`;
}

/** Prints rows as a Markdown table, or as one JSON line for run-all.mjs. */
export function report(name, rows, { json }) {
  if (json) {
    process.stdout.write(`${JSON.stringify({ bench: name, rows })}\n`);
    return;
  }
  console.log(`| ${name} | measured | goal |`);
  console.log('|---|---:|---|');
  for (const r of rows) console.log(`| ${r.metric} | ${r.measured} | ${r.goal ?? ''} |`);
}

/** Worker-side marks a task script prints (`orch-bench-mark NAME <epoch ms>`), from its raw logs. */
export function workerMarks(repo, run) {
  const dir = join(repo, '.orchestrator', 'runs', run, 'logs');
  const marks = new Map();
  if (!existsSync(dir)) return marks;
  for (const f of readdirSync(dir)) {
    const m = /^(.+)-\d+\.raw\.log$/.exec(f);
    if (!m) continue;
    for (const [, name, t] of readFileSync(join(dir, f), 'utf8').matchAll(/orch-bench-mark (\w+) (\d+)/g))
      marks.set(`${name}\0${m[1]}`, Number(t));
  }
  return marks;
}

/**
 * The run's critical path: from the last task merged back through, at each step, the dependency
 * merged last (the one that made the task ready), with each phase of each task on it. With a
 * trace (`bench/trace-preload.mjs`), the child processes the supervisor started and the time its
 * event loop was held up within each phase. Returns printable lines.
 */
export function criticalPath(events, tasks, { marks = new Map(), trace } = {}) {
  const first = new Map();
  for (const e of events) {
    const k = `${e.type}\0${e.task ?? ''}`;
    if (!first.has(k)) first.set(k, e.t);
  }
  const at = (type, id) => first.get(`${type}\0${id}`);
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const merged = tasks.filter((t) => at('task.merged', t.id) !== undefined);
  let cur = merged.sort((a, b) => at('task.merged', b.id) - at('task.merged', a.id))[0];
  const chain = [];
  while (cur) {
    chain.unshift(cur);
    const deps = cur.depends_on.map((d) => byId.get(d)).filter((d) => at('task.merged', d.id) !== undefined);
    cur = deps.sort((a, b) => at('task.merged', b.id) - at('task.merged', a.id))[0];
  }
  const runStart = at('run.started', '');
  const steps = [
    [
      'next ready',
      (id, prev) => (prev ? at('task.merged', prev.id) : runStart),
      (id) => at('task.ready', id),
    ],
    ['ready → worktree', (id) => at('task.ready', id), (id) => at('task.worktree', id)],
    ['worktree → launched', (id) => at('task.worktree', id), (id) => at('task.started', id)],
    ['launched → agent running', (id) => at('task.started', id), (id) => marks.get(`run\0${id}`)],
    ['agent running → work done', (id) => marks.get(`run\0${id}`), (id) => marks.get(`done\0${id}`)],
    ['work done → report journaled', (id) => marks.get(`done\0${id}`), (id) => at('task.reported', id)],
    ['reported → verify start', (id) => at('task.reported', id), (id) => at('task.verifying', id)],
    ['verify start → end', (id) => at('task.verifying', id), (id) => at('task.verified', id)],
    ['verified → merge start', (id) => at('task.verified', id), (id) => at('task.merging', id)],
    ['merge start → merged', (id) => at('task.merging', id), (id) => at('task.merged', id)],
  ];
  const inWindow = (xs, a, b) => xs.filter((x) => x.t >= a && x.t < b);
  const lines = [];
  const totals = new Map();
  let prev;
  for (const t of chain) {
    lines.push(`${t.id}:`);
    for (const [name, from, to] of steps) {
      const a = from(t.id, prev);
      const b = to(t.id, prev);
      if (a === undefined || b === undefined) continue;
      let extra = '';
      if (trace) {
        const sp = inWindow(trace.spawns, a, b);
        const busy = inWindow(trace.stalls, a, b).reduce((s, x) => s + x.ms, 0);
        const kinds = new Map();
        for (const s of sp) kinds.set(s.cmd, (kinds.get(s.cmd) ?? 0) + 1);
        const top = [...kinds]
          .sort((x, y) => y[1] - x[1])
          .slice(0, 4)
          .map(([c, n]) => `${c} ×${n}`);
        extra = `  | loop held ${ms(busy)}, ${sp.length} spawns${top.length ? ` (${top.join(', ')})` : ''}`;
      }
      lines.push(`  ${name.padEnd(30)} ${ms(b - a).padStart(8)}${extra}`);
      totals.set(name, [...(totals.get(name) ?? []), b - a]);
    }
    prev = t;
  }
  lines.push('per phase along the path, median / worst:');
  for (const [name, xs] of totals) lines.push(`  ${name.padEnd(30)} ${spread(xs)}`);
  if (trace) {
    const busy = trace.stalls.reduce((s, x) => s + x.ms, 0);
    const slowest = [...trace.spawns].sort((a, b) => b.ms - a.ms)[0];
    lines.push(
      `supervisor: ${trace.spawns.length} child processes (synchronous spawn ${ms(trace.spawns.reduce((s, x) => s + x.ms, 0))} in all, slowest ${ms(slowest?.ms)}); event loop held up ${ms(busy)} in all; delay p50 / p99 / max ${ms(trace.loop.p50)} / ${ms(trace.loop.p99)} / ${ms(trace.loop.max)}`,
    );
    const kinds = new Map();
    for (const s of trace.spawns) kinds.set(s.cmd, (kinds.get(s.cmd) ?? 0) + 1);
    lines.push(
      `  by command: ${[...kinds]
        .sort((x, y) => y[1] - x[1])
        .map(([c, n]) => `${c} ×${n}`)
        .join(', ')}`,
    );
  }
  return lines;
}

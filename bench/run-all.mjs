#!/usr/bin/env node
// `pnpm bench`: runs every benchmark and writes docs/benchmarks.md (one table, each figure with its
// goal, the machine and the date). `--smoke` (CI) runs the smallest case of each, prints the table
// and leaves docs/benchmarks.md alone; it exits non-zero only when a benchmark cannot start or
// crashes, never because a figure misses its goal. Build first (`pnpm build`).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { assertBuilt, machine, parseFlags, root } from './lib.mjs';

const { smoke } = parseFlags();
assertBuilt();
const TIMEOUT_MS = smoke ? 100_000 : 20 * 60_000;
const started = new Date();
const load0 = loadavg()[0];

/** Runs one script; returns its output, or the reason it failed. */
function exec(script, args, env = {}, timeoutMs = TIMEOUT_MS) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'bench', script), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: timeoutMs,
    maxBuffer: 1 << 26,
  });
  const seconds = ((performance.now() - t0) / 1000).toFixed(0);
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status}`;
    return { ok: false, seconds, error: `${why}\n${(r.stderr || '').slice(-3000)}` };
  }
  return { ok: true, seconds, stdout: r.stdout };
}

/** Rows of a Markdown table printed by a script: `| metric | measured | goal |` lines, headers skipped. */
function tableRows(stdout) {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l) && !/\|\s*measured\s*\|/.test(l))
    .map((l) =>
      l
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    );
}

/** bench/plan.mjs prints `| tasks | paths | YAML size | YAML median | YAML min | JSON median | JSON min | exit |`. */
function planRows(stdout) {
  return tableRows(stdout)
    .filter((c) => /^[\d,]+$/.test(c[0]))
    .map((c) => ({
      metric: `\`orch plan check --json\`, ${c[0]} tasks (${c[1]} paths, ${c[2]} of YAML): YAML / JSON median`,
      measured: `${c[3]} ms / ${c[5]} ms`,
      goal: c[0] === '2,000' ? '< 1,000 ms' : '',
    }));
}

const suites = [
  { name: 'orchestration overhead', script: 'run.mjs', mine: true },
  { name: 'done-detection latency', script: 'latency.mjs', mine: true },
  { name: 'worktree provisioning', script: 'worktrees.mjs', mine: true },
  { name: 'hot-command start-up', script: 'startup.mjs', mine: true },
  { name: 'worktree ready → in place', script: 'warm.mjs', mine: true },
  // A real `node --test` suite per task: --smoke is one small round (under a minute when the machine is
  // quiet), the full form several rounds of the whole plan.
  { name: 'real-suite replay', script: 'replay.mjs', mine: true, timeoutMs: smoke ? 300_000 : 60 * 60_000 },
  { name: 'orch demo', script: 'demo.mjs', mine: true, full: true },
  // Needs root: the hosts are network namespaces (--smoke: one host, 3 attempts, 10 to 30 s).
  { name: 'worker hosts', script: 'hosts.mjs', mine: true },
  { name: 'plan analyzers', script: 'plan.mjs', full: true, parse: planRows },
  {
    name: 'dashboard',
    script: 'dashboard.mjs',
    // A bare `orch --flag` in a code span reads as a command with none given to the docs' drift test.
    parse: (out) =>
      tableRows(out).map(([metric, measured, goal]) => ({
        metric: metric.replace(/`(orch --[\w-]+)`/g, '$1'),
        measured,
        goal,
      })),
    env: smoke ? { ORCH_BENCH_DASHBOARD_SECONDS: '3', ORCH_BENCH_DASHBOARD_RUNS: '2' } : {},
  },
];

const rows = [];
const failures = [];
for (const s of suites) {
  if (!existsSync(join(root, 'bench', s.script))) {
    rows.push({ metric: `${s.name}: bench/${s.script} is missing`, measured: 'not run', goal: '' });
    continue;
  }
  if (smoke && s.full) {
    rows.push({ metric: `${s.name}: no small case, not run with --smoke`, measured: 'skipped', goal: '' });
    continue;
  }
  process.stderr.write(`bench: ${s.name} (bench/${s.script}${smoke ? ' --smoke' : ''}) ...`);
  const r = exec(s.script, s.mine ? ['--json', ...(smoke ? ['--smoke'] : [])] : [], s.env, s.timeoutMs);
  process.stderr.write(r.ok ? ` ${r.seconds} s\n` : ` FAILED after ${r.seconds} s\n`);
  if (!r.ok) {
    failures.push(`${s.name}: ${r.error}`);
    rows.push({ metric: `${s.name}: crashed`, measured: 'n/a', goal: '' });
    continue;
  }
  if (s.mine) {
    const line = r.stdout.trim().split('\n').pop();
    rows.push(...JSON.parse(line).rows);
  } else {
    rows.push(...s.parse(r.stdout));
  }
}

/** Everything after this line of docs/benchmarks.md survives a rewrite. */
const KEPT_MARKER = '<!-- kept by pnpm bench: sections below are measured separately -->';

const m = machine();
const load1 = loadavg()[0];
const cell = (s) => String(s ?? '').replace(/\|/g, '\\|');
const table = [
  '| benchmark | measured | goal |',
  '|---|---:|---|',
  ...rows.map((r) => `| ${cell(r.metric)} | ${cell(r.measured)} | ${cell(r.goal)} |`),
].join('\n');
const machineLine = `${m.cores} × ${m.cpu}, ${m.memoryGb} GB RAM, ${m.os}; Node ${m.node}, git ${m.git}, tmux ${m.tmux}`;
const loadLine = `load average (1 min) ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end`;
console.log(`\n${table}\n\nMachine: ${machineLine}; ${loadLine}.`);

if (!smoke) {
  const doc = `# Benchmarks

Generated by \`pnpm bench\` (\`node bench/run-all.mjs\`) on ${started.toISOString().slice(0, 10)}.
Every figure is wall-clock time on the machine below, measured on real git repositories, real
processes and a private tmux server; a busy machine inflates them (see the load average).
\`pnpm bench -- --smoke\` runs the smallest case of each and does not rewrite this file.

Machine: ${machineLine}; ${loadLine}.

${table}

## What is measured

- **Orchestration overhead** (\`bench/run.mjs\`, also \`pnpm bench:run\`): \`orch run --no-tui --yes
  --max-workers 8\` of 30 \`shell\` tasks in 5 dependency levels (each task of a level depends on two
  of the level before), each sleeping 1 s, writing one file, committing and running \`orch task done\`,
  in a generated repository of 5,000 files. The zero-overhead schedule is the makespan of the same DAG
  and worker cap when every task takes exactly 1 s and starts the moment its dependencies finish. The
  makespan runs from the \`run.started\` event to the last \`task.merged\`; the per-task times come from
  the journal's timestamps. Peak memory is the \`VmHWM\` of the \`orch run\` process.
- **Done-detection latency** (\`bench/latency.mjs\`): from a worker's \`orch task done\` (its
  \`task.reported\` event) or its exit without a report (the exit wrapper's \`task.exited\` event) to
  the supervisor's next event for that task (\`task.verifying\` or \`task.failed\`).
- **Worktree provisioning** (\`bench/worktrees.mjs\`): \`addWorktree\` from \`@orch/git\` (per-repository
  mutex and lock file, crash-safety checks) against a plain loop of \`git worktree add -b\`, each on a
  fresh clone of the same generated repository.
- **Real-suite replay** (\`bench/replay.mjs\`, also \`pnpm bench:replay\`): a generated library with a
  real \`node --test\` suite and a plan of 8 tasks in 3 waves, each adding a module and its tests;
  \`orch run --max-workers 4\` with \`shell\` workers verified by the suite, against the same changes
  applied one after another with one \`npm test\` and a commit each, alternating, medians of 3 rounds.
- **Worktree ready → in place** (\`bench/warm.mjs\`): the engine's \`GitWorkspaces.ensure\` on a
  5,000-file repository for tasks whose dependency is verifying, with spare worktrees made ahead of
  need and without (a new worktree each).
- **Hot-command start-up** (\`bench/startup.mjs\`): \`orch task done\` and \`orch _exec\` (what every
  task starts) as whole processes, 20 starts each, from the bundle (\`pnpm bundle\`) and the workspace
  build, with \`node -e 0\` and orch's \`--version\` for reference; CPU from \`/usr/bin/time\`.
- **\`orch demo\`** (\`bench/demo.mjs\`): the whole demo in a temporary folder with plain output.
- **Worker hosts** (\`bench/hosts.mjs\`, also \`pnpm bench:hosts\`; needs root): the multi-host test
  harness (hosts as network namespaces on a bridge, Redis and an SSH git remote on their own), \`orch
  host\` with 4 slots on 1, 2 and 3 hosts, 24 one-second shell attempts in 3 waves of 8 added with
  \`BullWorkerRuntime\` (no distributed \`orch run\` yet: no verification or merges), against the
  zero-overhead schedule, and once more on 3 hosts whose ssh shares one connection per host
  (ControlMaster); dispatch latency from the job's adding to the attempt's shell running on a host;
  and the time from a host's loss (every process of its namespace killed) to its attempts running
  elsewhere.
- **Plan analyzers** (\`bench/plan.mjs\`, details in [benchmarks-plan.md](benchmarks-plan.md)) and the
  **dashboard** (\`bench/dashboard.mjs\`): first frame and CPU of a live dashboard.

## Where orchestration time goes

- **Ready → worker started** includes the task's worktree: a spare moved into place and switched to
  the task's branch (spares are made, and given their dependencies, at the newest staging tip while
  the task's dependencies verify and merge, and merged tasks' worktrees become spares), or, for the
  first tasks, a new one registered under the repository lock and checked out outside it.
- **Worker started → done** adds, to the task's own work, the tmux session, orch's exec wrapper and
  \`orch task done\`, each a Node.js process start.
- **Done → merged** is verification (leftover commit, the pinned commit's net diff against its
  boundaries, the task's commands on a checkout of exactly that commit), the squash landing on
  staging and the incremental check on the new staging tip.
`;
  // Sections measured by other scripts or by hand live below the marker and are kept as they are.
  const file = join(root, 'docs', 'benchmarks.md');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const at = old.indexOf(KEPT_MARKER);
  writeFileSync(file, at >= 0 ? `${doc}\n${old.slice(at)}` : doc);
  console.log('\nwrote docs/benchmarks.md');
}

if (failures.length > 0) {
  for (const f of failures) console.error(`\n${f}`);
  process.exitCode = 1;
}

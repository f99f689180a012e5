#!/usr/bin/env node
// Orchestration overhead (`pnpm bench:run`): a real `orch run` of 30 `shell` tasks in 5 dependency
// levels, each sleeping 1 s, with --max-workers 8, in a generated repository of 5,000 files.
// Reports the makespan against the zero-overhead schedule of the same DAG and worker cap, each
// phase of a task from the journal (median and worst; ready → running and done → merged with their
// p95), the merge batch sizes seen, and the orchestrator's peak memory (the supervisor runs in the
// `orch run` process). `--tasks N --workers W` changes the plan's size (5 levels of N/5 tasks) and
// the worker cap: `--tasks 100 --workers 16` is the memory case. `--smoke`: 6 tasks in 2 levels,
// 500 files. `--json`: one JSON line for run-all.mjs. After the table, the run's critical path,
// phase by phase per level (the worker's own steps from marks its script prints); `--trace` adds,
// per phase, the child processes the supervisor started and the time its event loop was held up
// (`bench/trace-preload.mjs` in the `orch run` process). With `ORCH_SPAWN_HELPER=1` the supervisor
// starts git and tmux from its spawn helper, whose children the trace does not see, and the CPU of
// "the commands it ran" then counts only what the helper reaped.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  criticalPath,
  workerMarks,
  assertBuilt,
  batchSizes,
  generatedRepo,
  isolatedTmux,
  max,
  ms,
  numberFlag,
  parseFlags,
  phaseTimes,
  report,
  sec,
  spread,
  zeroOverheadMakespan,
  runPlan,
} from './lib.mjs';

const flags = parseFlags();
const LEVELS = flags.smoke ? 2 : 5;
const WIDTH = flags.smoke ? 3 : Math.ceil(numberFlag('tasks', 30) / LEVELS);
const FILES = flags.smoke ? 500 : numberFlag('files', 5000);
const WORKERS = numberFlag('workers', 8);
const SLEEP_S = 1;

/** Level k task i depends on tasks i and i+1 of level k-1: a lattice, not independent chains. */
function planTasks() {
  const tasks = [];
  for (let k = 0; k < LEVELS; k++) {
    for (let i = 0; i < WIDTH; i++) {
      const id = `l${k}-t${i}`;
      tasks.push({
        id,
        description: `level ${k} task ${i}`,
        depends_on: k === 0 ? [] : [...new Set([`l${k - 1}-t${i}`, `l${k - 1}-t${(i + 1) % WIDTH}`])],
        files_write: [`out/${id}.txt`],
        verification: [{ command: `test -s out/${id}.txt`, type: 'check' }],
        // The marks time the worker's own steps (bench/lib.mjs `workerMarks`).
        run: `echo "orch-bench-mark run $(date +%s%3N)"\nsleep ${SLEEP_S}\nmkdir -p out && echo ${id} > out/${id}.txt\ngit add -A && git commit -qm ${id}\necho "orch-bench-mark done $(date +%s%3N)"\norch task done --summary ok\n`,
      });
    }
  }
  return tasks;
}

function toYaml(tasks) {
  const q = (s) => JSON.stringify(s);
  const lines = ['request: orchestration overhead benchmark', 'defaults: {agent: shell}', 'tasks:'];
  for (const t of tasks) {
    lines.push(
      `  - id: ${t.id}`,
      `    description: ${q(t.description)}`,
      `    depends_on: [${t.depends_on.join(', ')}]`,
      `    files_write: [${t.files_write.map(q).join(', ')}]`,
      `    verification: [{command: ${q(t.verification[0].command)}, type: check}]`,
      `    run: ${q(t.run)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

assertBuilt();
const tasks = planTasks();
const repo = await generatedRepo(FILES, { 'tasks.yaml': toYaml(tasks) });
const tmux = await isolatedTmux();
const traceFile = join(tmpdir(), `orch-bench-trace-${process.pid}.json`);
const traceEnv = process.argv.includes('--trace')
  ? {
      ORCH_BENCH_TRACE: traceFile,
      NODE_OPTIONS:
        `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(join(import.meta.dirname, 'trace-preload.mjs')).href}`.trim(),
    }
  : {};
try {
  const r = await runPlan(repo.dir, WORKERS, { ...tmux.env, ...traceEnv });
  const { events } = r;
  const runStart = events.find((e) => e.type === 'run.started').t;
  const merged = events.filter((e) => e.type === 'task.merged');
  if (merged.length !== tasks.length)
    throw new Error(`only ${merged.length} of ${tasks.length} tasks merged`);
  const lastMerge = max(merged.map((e) => e.t));
  const finished = events.find((e) => e.type === 'run.finished').t;
  const ideal = zeroOverheadMakespan(tasks, WORKERS, SLEEP_S);
  const makespan = (lastMerge - runStart) / 1000;
  const ids = tasks.map((t) => t.id);
  const phase = (from, to) => phaseTimes(events, ids, from, to);
  const label = `${tasks.length} tasks in ${LEVELS} levels, ${FILES.toLocaleString('en')} files, ${WORKERS} workers`;
  const rows = [
    {
      metric: `makespan, ${label}: run start to last merge (zero-overhead schedule ${ideal} s)`,
      measured: `${sec(makespan)} = ${(makespan / ideal).toFixed(2)}×`,
      goal: '≤ 1.15×',
    },
    {
      metric: 'same, whole `orch run` process (plan check to promotion)',
      measured: sec(r.wallMs / 1000),
      goal: '',
    },
    {
      metric: 'same, run start to run finished (incl. final integration, promotion)',
      measured: sec((finished - runStart) / 1000),
      goal: '',
    },
    {
      metric: 'ready → worker running (`task.started`), p50 / p95 / worst',
      measured: spread(phase('task.ready', 'task.started'), { p95: true }),
      goal: 'p50 ≤ 150 ms',
    },
    {
      metric: '… of which ready → worktree in place (`task.worktree`), median / worst',
      measured: spread(phase('task.ready', 'task.worktree')),
      goal: '',
    },
    {
      metric: `worker started → \`orch task done\` (script sleeps ${SLEEP_S} s), median / worst`,
      measured: spread(phase('task.started', 'task.reported')),
      goal: '',
    },
    {
      metric: "done → verified (the task's checks on its pinned commit), median / worst",
      measured: spread(phase('task.reported', 'task.verified')),
      goal: '',
    },
    {
      metric: 'verified → merged (landing, incremental check), median / worst',
      measured: spread(phase('task.verified', 'task.merged')),
      goal: '',
    },
    {
      metric: 'done → merged, p50 / p95 / worst',
      measured: spread(phase('task.reported', 'task.merged'), { p95: true }),
      goal: '',
    },
    { metric: 'merge batch sizes seen', measured: batchSizes(events), goal: '' },
    {
      metric:
        "CPU time of the supervisor (the `orch run` process; of it in the kernel) / of the git and tmux commands it ran (the workers' own processes: `bench/startup.mjs`)",
      measured: r.cpu
        ? `${sec(r.cpu.orch)} (${sec(r.cpu.orchSys)}) / ${sec(r.cpu.children)}`
        : 'n/a (no /proc)',
      goal: '',
    },
    {
      metric: '… both, per task',
      measured: r.cpu ? ms(((r.cpu.orch + r.cpu.children) * 1000) / tasks.length) : 'n/a',
      goal: '',
    },
    {
      metric: `orchestrator peak memory (VmHWM of the \`orch run\` process, its supervisor), ${tasks.length} tasks / ${WORKERS} workers`,
      measured: r.peakKb ? `${Math.round(r.peakKb / 1024)} MiB` : 'n/a (no /proc)',
      goal: '< 200 MiB at 100 tasks / 16 workers',
    },
  ];
  report('orchestration overhead', rows, flags);
  if (!flags.json) {
    const trace = traceEnv.ORCH_BENCH_TRACE ? JSON.parse(readFileSync(traceFile, 'utf8')) : undefined;
    console.log(`\ncritical path (${label}):`);
    for (const line of criticalPath(events, tasks, { marks: workerMarks(repo.dir, r.run), trace }))
      console.log(line);
  }
} finally {
  await tmux.cleanup();
  if (process.env.ORCH_BENCH_KEEP) console.error(`kept ${repo.dir}`);
  else await repo.cleanup();
}

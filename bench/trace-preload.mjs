// Loaded into the `orch run` process by `node bench/run.mjs --trace` (NODE_OPTIONS=--import):
// records every child process the supervisor starts (when, what, how long its synchronous spawn
// held the thread) and when its event loop was held up (a 20-ms timer's lateness), and writes them
// to ORCH_BENCH_TRACE as JSON when the process exits. Bench-only: nothing of orch loads it.
import { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const out = process.env.ORCH_BENCH_TRACE;
// Children (git, tmux, the workers' processes) must not load this too.
delete process.env.ORCH_BENCH_TRACE;
process.env.NODE_OPTIONS = (process.env.NODE_OPTIONS ?? '')
  .replace(/--import[= ]\S*trace-preload\.mjs/, '')
  .trim();
if (!process.env.NODE_OPTIONS) delete process.env.NODE_OPTIONS;

const origin = performance.timeOrigin;
const now = () => origin + performance.now();
const spawns = [];
const spawn = ChildProcess.prototype.spawn;
ChildProcess.prototype.spawn = function tracedSpawn(options) {
  const t0 = now();
  try {
    return spawn.call(this, options);
  } finally {
    const args = options?.args ?? [];
    const file = String(options?.file ?? '')
      .split('/')
      .pop();
    // `git -C dir sub ...`, `tmux -f conf -L sock sub ...`: the first argument that is not an
    // option or its value (and not a path or a script).
    let sub = '';
    for (let i = 1; i < args.length; i++) {
      const a = String(args[i]);
      if (['-C', '-c', '-L', '-S', '-f', '-e'].includes(a)) i++;
      else if (!a.startsWith('-')) {
        if (!/[/\n ]/.test(a) && !/^\d+$/.test(a)) sub = a;
        break;
      }
    }
    spawns.push({ t: t0, ms: now() - t0, cmd: `${file} ${sub}`.trim() });
  }
};

// The loop's lateness, sampled: a timer every 20 ms; what it fires late is time the thread was busy.
const TICK = 20;
const stalls = [];
let last = now();
setInterval(() => {
  const t = now();
  const late = t - last - TICK;
  if (late > 5) stalls.push({ t: last + TICK, ms: late });
  last = t;
}, TICK).unref();
const hist = monitorEventLoopDelay({ resolution: 10 });
hist.enable();

process.on('exit', () => {
  if (!out) return;
  hist.disable();
  const loop = { p50: hist.percentile(50) / 1e6, p99: hist.percentile(99) / 1e6, max: hist.max / 1e6 };
  writeFileSync(out, JSON.stringify({ spawns, stalls, loop }));
});

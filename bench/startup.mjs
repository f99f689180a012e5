#!/usr/bin/env node
// Start-up of the commands every task runs (`pnpm bench:startup`, part of `pnpm bench`): `orch task
// done` (each worker's report) and `orch _exec` (the wrapper in each worker's session), as whole
// processes, against the bundle (`packages/orch/dist/bin.js`, made by `pnpm bundle`; skipped when
// absent) and the workspace build (`packages/cli/dist/bin.js`), with `node -e 0` and `--version`
// for reference. Each is started 20 times (`--smoke`: 5) one after another; wall time from spawn
// to exit, and CPU (user + system) from /usr/bin/time where it exists. `task done` runs in a git
// repository without a run and `_exec` on a missing spec: both load the command's modules and stop
// at their first check, so the figure is start-up and import, not the work.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, assertBuilt, median, ms, parseFlags, quantile, report, root } from './lib.mjs';

const flags = parseFlags();
const RUNS = flags.smoke ? 5 : 20;
const BUNDLE = join(root, 'packages/orch/dist/bin.js');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

assertBuilt();
const dir = await mkdtemp(join(tmpdir(), 'orch-bench-startup-'));
execFileSync('git', ['init', '-q', dir]);

/** Wall and CPU milliseconds of `RUNS` starts of `node ...args`, one after another, after one warm-up. */
function measure(args) {
  const wall = [];
  const cpu = [];
  for (let i = 0; i <= RUNS; i++) {
    const argv = TIME ? ['-f', 'orch-bench-cpu %U %S', process.execPath, ...args] : args;
    const t0 = process.hrtime.bigint();
    const r = spawnSync(TIME ?? process.execPath, argv, {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', ORCH_ROOT: '', ORCH_RUN: '', ORCH_TASK: '' },
    });
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.error) throw r.error;
    if (i === 0) continue; // the first start warms the disk cache
    wall.push(elapsed);
    const m = /orch-bench-cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
    if (m) cpu.push((Number(m[1]) + Number(m[2])) * 1000);
  }
  return { wall, cpu };
}

const cases = [
  ['Node.js alone (`node -e 0`)', ['-e', '0']],
  ...[
    ['bundle', BUNDLE],
    ['workspace build', BIN],
  ].flatMap(([label, bin]) =>
    existsSync(bin)
      ? [
          [`${label}, \`--version\``, [bin, '--version']],
          [`${label}, \`orch task done\``, [bin, 'task', 'done', '--summary', 'bench']],
          [`${label}, \`orch _exec\``, [bin, '_exec', join(dir, 'missing-spec.json')]],
        ]
      : [[`${label}: not built (\`pnpm bundle\`)`, undefined]],
  ),
];

const rows = [];
try {
  for (const [metric, args] of cases) {
    if (!args) {
      rows.push({ metric, measured: 'n/a', goal: '' });
      continue;
    }
    const { wall, cpu } = measure(args);
    const cpuText = cpu.length ? `; CPU ${ms(median(cpu))}` : '';
    rows.push({
      metric: `${metric}: wall p50 / p95${cpu.length ? ', CPU (user + system) p50' : ''}, ${RUNS} runs`,
      measured: `${ms(median(wall))} / ${ms(quantile(wall, 0.95))}${cpuText}`,
      goal: '',
    });
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
report('hot-command start-up', rows, flags);

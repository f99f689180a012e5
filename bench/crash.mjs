#!/usr/bin/env node
/**
 * The long crash test: the suite's crash test (packages/cli/test/crash.e2e.test.ts) with many more kill
 * points. Not run in CI.
 *
 *   node bench/crash.mjs --kills 200 --seed 42
 *
 * Build first (`pnpm build`). A failure prints its seed; the same seed replays the same kill points.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const kills = Number(opt('kills', '200'));
const seed = Number(opt('seed', String(Math.floor(Math.random() * 2 ** 31))));
if (!Number.isInteger(kills) || kills < 1 || !Number.isInteger(seed)) {
  console.error('usage: node bench/crash.mjs [--kills N] [--seed N]');
  process.exit(2);
}
console.log(`crash test: ${kills} kills, seed ${seed}`);
const started = Date.now();
const child = spawn(
  'pnpm',
  ['exec', 'vitest', 'run', 'packages/cli/test/crash.e2e.test.ts', '--testTimeout', String(kills * 60_000)],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ORCH_CRASH_KILLS: String(kills), ORCH_CRASH_SEED: String(seed) },
  },
);
child.on('exit', (code) => {
  const s = Math.round((Date.now() - started) / 1000);
  console.log(
    code === 0
      ? `passed: ${kills} kills in ${s} s (seed ${seed})`
      : `FAILED (seed ${seed}; replay: node bench/crash.mjs --kills ${kills} --seed ${seed})`,
  );
  process.exit(code ?? 1);
});

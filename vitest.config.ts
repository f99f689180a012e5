import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { LongestFirst } from './vitest.sequencer.ts';

const packages = fileURLToPath(new URL('./packages/', import.meta.url));
const cores = availableParallelism();
/** Worker counts per set; ORCH_TEST_WORKERS / ORCH_E2E_WORKERS override them (a loaded or shared machine). */
const fastWorkers = Number(process.env.ORCH_TEST_WORKERS) || cores + 1;
const e2eWorkers = Number(process.env.ORCH_E2E_WORKERS) || cores + 1;

/**
 * Two projects. `fast`: every test that needs neither tmux, nor the built binary, nor a real agent
 * CLI (`pnpm test:fast`, no build needed). `e2e`: the `*.e2e.test.ts` files, which do (`pnpm test`
 * builds first and runs both).
 *
 * Vitest's default is one worker fewer than the cores, i.e. ONE on a 2-core machine: the files ran one
 * after another. Both sets wait on child processes much of the time (git in the fast set; tmux panes,
 * shell workers and the built binary in the e2e set), so one worker more than the cores keeps the
 * cores busy: on 2 idle cores the fast set took 52 s with 3 workers against 57-64 s with 2, the e2e
 * set 262 s against 346 s. On a machine loaded by other work, fewer workers are faster
 * (ORCH_TEST_WORKERS / ORCH_E2E_WORKERS).
 * Every test isolates what it shares (a temp repository, its own TMUX_TMPDIR, its own ports and
 * config dirs), so files may run side by side.
 */
const shared = {
  setupFiles: ['./vitest.setup.ts'],
  pool: 'forks' as const,
  testTimeout: 60_000,
  hookTimeout: 60_000,
  clearMocks: true,
  restoreMocks: true,
};

export default defineConfig({
  resolve: {
    // Tests run the sources: `@orch/x` is `packages/x/src/index.ts`, never a possibly stale `dist/`.
    // Only the binary the e2e tests spawn is the build.
    alias: [
      { find: /^@orch\/([a-z-]+)$/, replacement: `${packages}$1/src/index.ts` },
      { find: /^@orch\/([a-z-]+)\/(.+)$/, replacement: `${packages}$1/src/$2.ts` },
    ],
  },
  test: {
    maxWorkers: Math.max(fastWorkers, e2eWorkers),
    // Known-longest files first (vitest.sequencer.ts): no long file starts last.
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        extends: true,
        test: {
          ...shared,
          name: 'fast',
          include: ['packages/*/test/**/*.test.{ts,tsx}'],
          exclude: ['**/node_modules/**', 'packages/*/test/**/*.e2e.test.{ts,tsx}'],
          maxWorkers: fastWorkers,
          // The files of a worker share one module graph: loading the sources (the CLI's program and
          // the engine behind it, in-process) was over a third of this set's time, once per file.
          // Every fast test keeps its state in its own temp folders and objects, and restores what it
          // changes of process.env, so the files need no fresh module graph each.
          isolate: false,
          // Projects with different worker counts run as groups, one after the other: fast first.
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          ...shared,
          name: 'e2e',
          include: ['packages/*/test/**/*.e2e.test.{ts,tsx}'],
          maxWorkers: e2eWorkers,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});

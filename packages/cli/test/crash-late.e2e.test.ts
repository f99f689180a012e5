/**
 * The crash test's second half (see crash.e2e.test.ts and crash-harness.ts): kills after the merge
 * queue's, integration's and promotion's journal events, each followed by `orch state resume` until
 * the run completes, compared with what an uninterrupted run of the same plan ends with. A file of its own so both
 * halves run side by side.
 */
import { describe, it } from 'vitest';
import { SEED, TRIGGERS, crashWorld, killAndResume, pointKills, prng, withSeed } from './crash-harness.js';

/** staging.moved, check.passed, merge.batch, run.phase integrating, run.phase promoting. */
const POINTS = TRIGGERS.slice(5);

describe('resume after crashes in the merge queue, integration and promotion', () => {
  const world = crashWorld();

  it(`survives a kill after each of ${POINTS.map((p) => p.phase ?? p.on).join(', ')} (supervisor, worker session, tmux server)`, async () => {
    const rand = prng(SEED ^ 0x2545f491);
    const trace: string[] = [];
    try {
      await killAndResume(world, pointKills(rand, POINTS), rand, trace);
    } catch (e) {
      throw withSeed(trace, e);
    }
    if (process.env.ORCH_CRASH_VERBOSE) console.log(`seed ${SEED}\n${trace.join('\n')}`);
  }, 600_000);
});

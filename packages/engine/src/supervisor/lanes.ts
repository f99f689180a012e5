/**
 * Lanes: verification runs beside the workers, not in their slots. A worker slot
 * (`max_parallel_workers`) is held only while the worker is live (core's `pickToStart`); checks
 * take a verify lane, at most `orchestration.verify_lanes` at once (default: the cores of the
 * machine the supervisor runs on), so finished work is checked while agents keep working.
 */
import { availableParallelism } from 'node:os';
import type { Config } from '@orch/core';

export function verifyLanes(config: Config): number {
  return Math.max(1, config.orchestration.verify_lanes ?? availableParallelism());
}

/** A counting semaphore: `run` waits for a free lane, first come first served. */
export class Lane {
  private busy = 0;
  private readonly queue: (() => void)[] = [];

  constructor(readonly size: number) {}

  /** Lanes taken right now. */
  get inUse(): number {
    return this.busy;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.busy >= this.size) await new Promise<void>((r) => this.queue.push(r));
    else this.busy += 1;
    try {
      return await fn();
    } finally {
      // The lane passes straight to the next in line (busy stays), or is freed.
      const next = this.queue.shift();
      if (next) next();
      else this.busy -= 1;
    }
  }
}

/**
 * How many workers may run at once: the run's limit, lowered by `workers.throttled` (a rate limit
 * halves it, each merge after gives one back). Derived from the journal, so a resumed supervisor
 * goes on with the limit the last one had.
 */
import type { RunEvent } from '@orch/core';

export interface WorkerLimit {
  /** The limit the run started with: recovery never goes above it. */
  ceiling: number;
  current: number;
}

export function workerLimit(events: readonly RunEvent[], fallback: number): WorkerLimit {
  let ceiling = fallback;
  let current = fallback;
  for (const ev of events) {
    if (ev.type === 'run.started') ceiling = current = ev.maxWorkers;
    else if (ev.type === 'workers.throttled') current = Math.min(ev.maxWorkers, ceiling);
  }
  return { ceiling, current };
}

/** The limit after a rate limit: half, at least one. */
export function halved(limit: WorkerLimit): number {
  return Math.max(1, Math.floor(limit.current / 2));
}

/** The limit after a merge: one more, at most the ceiling. */
export function recovered(limit: WorkerLimit): number {
  return Math.min(limit.current + 1, limit.ceiling);
}

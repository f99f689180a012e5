/**
 * How the worker limit moves: a rate limit halves it, each merge after gives one back. The limit
 * itself is the run state's (`workerLimit` in core, from the journaled `workers.throttled`), so a
 * resumed supervisor goes on with the limit the last one had.
 */
import { workerLimit, type RunState } from '@orch/core';

/** The limit after a rate limit: half, at least one. */
export function halved(state: RunState): number {
  return Math.max(1, Math.floor(workerLimit(state) / 2));
}

/** The limit after a merge: one more, at most the run's own limit. */
export function recovered(state: RunState): number {
  return Math.min(workerLimit(state) + 1, state.maxWorkers);
}

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

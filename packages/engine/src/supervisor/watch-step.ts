/**
 * What the supervisor does next about a running attempt, decided from what it knows (pure): the
 * precedence between a report, the exit, the pane gone, the deadline and silence lives here, in
 * one table, instead of in the order of a loop's checks. `awaitWorker` carries the step out.
 */
import type { TaskState } from '@orch/core';

export interface AttemptFacts {
  status: TaskState['status'];
  report?: TaskState['report'];
  blockedOn?: string;
  /** The attempt's `task.exited` is journaled. */
  exited: boolean;
  /** The runtime says the worker is gone. */
  paneGone: boolean;
  now: number;
  deadline: number;
  /** When its output last grew. */
  lastGrowth: number;
  idleMs: number;
}

export type AttemptStep =
  /** Done by its own report; wait briefly for the exit unless it came. */
  | { kind: 'done'; awaitExit: boolean }
  | { kind: 'failed'; reason: string }
  /** A `blocked-on` message: stop it until that task is merged. */
  | { kind: 'paused'; on: string }
  | { kind: 'blocked'; reason: string; needs?: string }
  /** Ended without a report: judge the exit. */
  | { kind: 'exited' }
  /** Gone without its exit journaled: give the wrapper a moment, then journal `task.pane_gone`. */
  | { kind: 'pane_gone' }
  | { kind: 'timed_out' }
  | { kind: 'idle' }
  | { kind: 'wait'; timeoutMs: number };

/**
 * Reports win over everything the supervisor observes itself (a worker that said done and then
 * exited is done); an exit beats the runtime's view; the deadline beats silence.
 */
export function nextStep(f: AttemptFacts): AttemptStep {
  const r = f.report;
  if (r?.status === 'done') return { kind: 'done', awaitExit: !f.exited };
  if (r?.status === 'failed') return { kind: 'failed', reason: r.reason ?? 'the worker reported failure' };
  if (f.status === 'blocked' && f.blockedOn) return { kind: 'paused', on: f.blockedOn };
  if (r?.status === 'blocked')
    return { kind: 'blocked', reason: r.reason ?? 'blocked', ...(r.needs ? { needs: r.needs } : {}) };
  if (f.exited) return { kind: 'exited' };
  if (f.paneGone) return { kind: 'pane_gone' };
  if (f.now >= f.deadline) return { kind: 'timed_out' };
  if (f.now - f.lastGrowth >= f.idleMs) return { kind: 'idle' };
  return { kind: 'wait', timeoutMs: Math.min(f.deadline - f.now, f.idleMs - (f.now - f.lastGrowth)) + 5 };
}

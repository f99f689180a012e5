import { describe, expect, it } from 'vitest';
import { RunEvent, reduceRun, workerLimit, type RunState } from '@orch/core';
import { runStarted } from '@orch/test-utils';
import { halved, recovered } from '../src/supervisor/throttle.js';
import { nextStep, type AttemptFacts, type AttemptStep } from '../src/supervisor/watch-step.js';

const base: AttemptFacts = {
  status: 'running',
  exited: false,
  paneGone: false,
  now: 1_000_000,
  deadline: 1_000_000 + 600_000,
  lastGrowth: 1_000_000,
  idleMs: 60_000,
};
const done = { status: 'done' as const, summary: 'ok' };
const failed = { status: 'failed' as const, reason: 'tests fail' };
const blocked = { status: 'blocked' as const, reason: 'needs lodash', needs: 'lodash' };
const late = { now: base.deadline + 1, lastGrowth: base.deadline - 120_000 };

const rows: [string, Partial<AttemptFacts>, AttemptStep][] = [
  ['a running worker: wait for the nearer of deadline and idle', {}, { kind: 'wait', timeoutMs: 60_005 }],
  [
    'near its deadline: wait only until it',
    { now: base.deadline - 1_000, lastGrowth: base.deadline - 1_000 },
    { kind: 'wait', timeoutMs: 1_005 },
  ],
  ['done, exit not seen yet', { report: done }, { kind: 'done', awaitExit: true }],
  ['done and exited', { report: done, exited: true }, { kind: 'done', awaitExit: false }],
  ['done after its deadline: the report wins', { report: done, ...late }, { kind: 'done', awaitExit: true }],
  ['done with the pane gone', { report: done, paneGone: true }, { kind: 'done', awaitExit: true }],
  ['failed by its report', { report: failed, exited: true }, { kind: 'failed', reason: 'tests fail' }],
  [
    'failed without a reason',
    { report: { status: 'failed' } },
    { kind: 'failed', reason: 'the worker reported failure' },
  ],
  ['blocked on another task', { status: 'blocked', blockedOn: 'b' }, { kind: 'paused', on: 'b' }],
  [
    'blocked on a task beats its own blocked report',
    { status: 'blocked', blockedOn: 'b', report: blocked },
    { kind: 'paused', on: 'b' },
  ],
  [
    'blocked by its report',
    { report: blocked },
    { kind: 'blocked', reason: 'needs lodash', needs: 'lodash' },
  ],
  ['exited without a report', { exited: true }, { kind: 'exited' }],
  ['exited after its deadline: the exit is judged', { exited: true, ...late }, { kind: 'exited' }],
  ['exited and pane gone: the exit wins', { exited: true, paneGone: true }, { kind: 'exited' }],
  ['pane gone, nothing journaled', { paneGone: true }, { kind: 'pane_gone' }],
  ['pane gone after its deadline: the pane first', { paneGone: true, ...late }, { kind: 'pane_gone' }],
  ['past its deadline', { now: base.deadline }, { kind: 'timed_out' }],
  ['past its deadline and silent: the deadline wins', late, { kind: 'timed_out' }],
  ['silent for the idle timeout', { now: base.now + 60_000 }, { kind: 'idle' }],
  ['silent a moment less', { now: base.now + 59_999 }, { kind: 'wait', timeoutMs: 6 }],
];

describe('nextStep: what the supervisor does about a running attempt', () => {
  it.each(rows)('%s', (_name, facts, step) => {
    expect(nextStep({ ...base, ...facts })).toEqual(step);
  });
});

describe('workerLimit: the throttled limit from the journal', () => {
  const TS = '2026-01-01T00:00:00.000Z';
  const startedWith = (maxWorkers: number): RunEvent =>
    RunEvent.parse({ ts: TS, ...runStarted(['a'], { maxWorkers }) });
  const started = startedWith(4);
  const throttled = (n: number): RunEvent =>
    RunEvent.parse({ type: 'workers.throttled', ts: TS, maxWorkers: n, reason: 'test' });
  const limitOf = (events: RunEvent[]): { ceiling: number; current: number } => {
    const state = reduceRun(events)!;
    return { ceiling: state.maxWorkers, current: workerLimit(state) };
  };
  /** A state whose run limit is `ceiling`, throttled to `current`. */
  const at = (ceiling: number, current: number): RunState =>
    reduceRun([startedWith(ceiling), throttled(current)])!;

  it('is the run limit when nothing throttled it', () => {
    expect(limitOf([started])).toEqual({ ceiling: 4, current: 4 });
  });
  it('follows the last workers.throttled, never above the run limit', () => {
    expect(limitOf([started, throttled(2), throttled(1)])).toEqual({ ceiling: 4, current: 1 });
    expect(limitOf([started, throttled(7)])).toEqual({ ceiling: 4, current: 4 });
  });
  it('halves down to one and recovers one at a time up to the ceiling', () => {
    expect(halved(at(4, 4))).toBe(2);
    expect(halved(at(4, 1))).toBe(1);
    expect(recovered(at(4, 3))).toBe(4);
    expect(recovered(at(4, 4))).toBe(4);
  });
});

import fc from 'fast-check';
import { runStarted as startedEvent } from '@orch/test-utils';
import { describe, expect, it } from 'vitest';
import {
  RunEvent,
  TASK_EVENT_TYPES,
  TaskStatus,
  applyEvent,
  assertLegal,
  checkTaskEvent,
  reduceRun,
  transition,
  workerLimit,
  type RunEventInput,
  type RunState,
  type TaskEventLike,
  type TaskEventType,
} from '../src/index.js';

const at = '2026-01-01T00:00:00.000Z';
const evidence = { source: 'status-command' as const, at };

/** One well-formed event of each task type (attempt 1 where the type carries one). */
const sample: { [K in TaskEventType]: Extract<TaskEventLike, { type: K }> } = {
  'task.ready': { type: 'task.ready', task: 'a' },
  'task.worktree': { type: 'task.worktree', task: 'a', path: 'w', branch: 'b', baseCommit: 'c' },
  'task.started': {
    type: 'task.started',
    task: 'a',
    attempt: 1,
    session: 's',
    agent: 'shell',
    promptPath: 'p',
    logPath: 'l',
  },
  'task.progress': { type: 'task.progress', task: 'a', message: 'm' },
  'task.activity': { type: 'task.activity', task: 'a', activity: 'x' },
  'task.reported': { type: 'task.reported', task: 'a', status: 'done', evidence },
  'task.exited': { type: 'task.exited', task: 'a', attempt: 1, exitCode: 0, evidence },
  'task.verifying': { type: 'task.verifying', task: 'a' },
  'task.verified': { type: 'task.verified', task: 'a', ok: true },
  'task.merging': { type: 'task.merging', task: 'a' },
  'task.merged': {
    type: 'task.merged',
    task: 'a',
    commit: 'm',
    stagingBefore: 's',
    evidence: { source: 'merge', at },
  },
  'task.failed': {
    type: 'task.failed',
    task: 'a',
    category: 'test_failed',
    reason: 'r',
    final: false,
    evidence,
  },
  'task.retry': { type: 'task.retry', task: 'a', attempt: 2, reason: 'r' },
  'task.cancelled': { type: 'task.cancelled', task: 'a', reason: 'r' },
  'task.blocked': { type: 'task.blocked', task: 'a', reason: 'r' },
  'task.unblocked': { type: 'task.unblocked', task: 'a', reason: 'r' },
  'task.attention': { type: 'task.attention', task: 'a', reason: 'r' },
  'task.reset': { type: 'task.reset', task: 'a', reason: 'r' },
  'task.timed_out': { type: 'task.timed_out', task: 'a', attempt: 1, timeoutSec: 60 },
  'task.idle': { type: 'task.idle', task: 'a', attempt: 1, idleSec: 30 },
  'task.pane_gone': { type: 'task.pane_gone', task: 'a', attempt: 1 },
  'task.placed': { type: 'task.placed', task: 'a', attempt: 1, host: 'h1' },
};

const OPEN = ['pending', 'ready', 'running', 'verifying', 'merging', 'blocked', 'needs_attention'] as const;
const same = 'same' as const;
type Row = Partial<Record<TaskStatus, TaskStatus | typeof same>>;
const everyOpen = (next: TaskStatus | typeof same): Row =>
  Object.fromEntries(OPEN.map((s) => [s, next])) as Row;

/**
 * The table as docs/lifecycle.md states it: for each event, the statuses it is legal in and the
 * status it leads to ('same': unchanged). Every status not listed refuses the event.
 */
const TABLE: Record<TaskEventType, Row> = {
  'task.ready': { pending: 'ready' },
  'task.worktree': everyOpen(same),
  'task.started': {
    pending: 'running',
    ready: 'running',
    running: 'running',
    verifying: 'running',
    merging: 'running',
  },
  'task.progress': everyOpen(same),
  'task.activity': everyOpen(same),
  'task.reported': everyOpen(same),
  'task.exited': everyOpen(same),
  'task.verifying': everyOpen('verifying'),
  'task.verified': everyOpen(same),
  'task.merging': { running: 'merging', verifying: 'merging' },
  'task.merged': { running: 'merged', verifying: 'merged', merging: 'merged' },
  'task.failed': everyOpen(same),
  'task.retry': {
    ready: 'ready',
    running: 'ready',
    verifying: 'ready',
    merging: 'ready',
    blocked: 'ready',
    needs_attention: 'ready',
  },
  'task.cancelled': everyOpen('cancelled'),
  'task.blocked': {
    pending: 'blocked',
    ready: 'blocked',
    running: 'blocked',
    blocked: 'blocked',
    needs_attention: 'blocked',
  },
  'task.unblocked': { blocked: 'ready', needs_attention: 'ready' },
  'task.attention': everyOpen(same),
  'task.reset': { failed: 'pending', cancelled: 'pending' },
  'task.timed_out': { running: 'running' },
  'task.idle': { running: 'running' },
  'task.pane_gone': { running: 'running' },
  'task.placed': everyOpen(same),
};

describe('the lifecycle table', () => {
  for (const type of TASK_EVENT_TYPES) {
    it(`${type}: legal exactly where the table says, leading where it says`, () => {
      for (const status of TaskStatus.options) {
        const want = TABLE[type][status];
        const got = transition(status, sample[type]);
        if (want === undefined) {
          expect(got, `${type} in ${status}`).toMatchObject({ ok: false });
          if (!got.ok) expect(got.reason).toContain(status);
        } else {
          expect(got, `${type} in ${status}`).toEqual({ ok: true, next: want === same ? status : want });
        }
      }
    });
  }

  it('a final failure fails the task for good; a non-final one leaves it where it is', () => {
    expect(transition('running', { ...sample['task.failed'], final: true })).toEqual({
      ok: true,
      next: 'failed',
    });
    expect(transition('verifying', sample['task.failed'])).toEqual({ ok: true, next: 'verifying' });
  });

  it("records resume's reconcile of a landing from any open status, never from a finished one", () => {
    const reconciled = { ...sample['task.merged'], evidence: { source: 'reconcile' as const, at } };
    for (const s of OPEN) expect(transition(s, reconciled)).toEqual({ ok: true, next: 'merged' });
    for (const s of ['merged', 'failed', 'cancelled'] as const)
      expect(transition(s, reconciled)).toMatchObject({ ok: false });
    expect(transition('ready', sample['task.merged'])).toMatchObject({
      ok: false,
      reason: expect.stringContaining('never verified'),
    });
  });
});

describe('attempt rules', () => {
  const running = { status: 'running' as const, attempt: 1 };

  it('a new attempt must have a higher number', () => {
    expect(checkTaskEvent(running, { ...sample['task.started'], attempt: 1 })).toMatchObject({ ok: false });
    expect(checkTaskEvent(running, { ...sample['task.started'], attempt: 2 })).toEqual({
      ok: true,
      next: 'running',
    });
  });

  it("refuses observations of another attempt, but takes an earlier attempt's exit", () => {
    const current = { status: 'running' as const, attempt: 2 };
    for (const type of ['task.timed_out', 'task.idle', 'task.pane_gone'] as const)
      expect(checkTaskEvent(current, { ...sample[type], attempt: 1 })).toMatchObject({
        ok: false,
        reason: expect.stringContaining('current attempt is 2'),
      });
    expect(checkTaskEvent(current, { ...sample['task.exited'], attempt: 1 })).toEqual({
      ok: true,
      next: 'running',
    });
  });

  it('a report after the deadline fired is too late; a deadline after a report or an exit is refused', () => {
    const timedOut = { ...running, ended: { attempt: 1, by: 'timed_out' as const } };
    expect(checkTaskEvent(timedOut, sample['task.reported'])).toMatchObject({
      ok: false,
      reason: expect.stringContaining('timed out'),
    });
    const idle = { ...running, ended: { attempt: 1, by: 'idle' as const } };
    expect(checkTaskEvent(idle, sample['task.reported'])).toMatchObject({ ok: false });
    // The failure and the retry still follow the deadline.
    expect(checkTaskEvent(timedOut, sample['task.failed'])).toMatchObject({ ok: true });
    expect(checkTaskEvent(timedOut, sample['task.retry'])).toEqual({ ok: true, next: 'ready' });
    const reported = { ...running, report: { status: 'done' } };
    expect(checkTaskEvent(reported, sample['task.timed_out'])).toMatchObject({
      ok: false,
      reason: expect.stringContaining('reported first'),
    });
    const exited = { ...running, ended: { attempt: 1, by: 'exited' as const } };
    expect(checkTaskEvent(exited, sample['task.idle'])).toMatchObject({ ok: false });
    // A report written before the exit but read after it still counts.
    expect(checkTaskEvent(exited, sample['task.reported'])).toEqual({ ok: true, next: 'running' });
    // The pane going away is an observation, never a verdict: legal after either.
    expect(checkTaskEvent(timedOut, sample['task.pane_gone'])).toEqual({ ok: true, next: 'running' });
  });

  it('the journal check throws ERR_ORCH_ILLEGAL_TRANSITION and lets run events and unknown tasks pass', () => {
    const state = { tasks: { a: { status: 'merged' as const, attempt: 1 } } };
    expect(() => assertLegal(state, { type: 'task.ready', task: 'a' })).toThrow(
      expect.objectContaining({ code: 'ERR_ORCH_ILLEGAL_TRANSITION' }),
    );
    expect(() => assertLegal(state, { type: 'task.ready', task: 'zz' })).not.toThrow();
    expect(() => assertLegal(state, { type: 'run.phase', phase: 'running' })).not.toThrow();
    expect(() => assertLegal(undefined, { type: 'task.ready', task: 'a' })).not.toThrow();
  });
});

let clock = 0;
const ev = (e: RunEventInput): RunEvent =>
  RunEvent.parse({ ts: new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString(), ...e });
const runStarted = (): RunEvent =>
  ev(startedEvent(['a'], { baseCommit: 'b0', stagingCommit: 's0', maxWorkers: 4 }));
const started = (attempt: number): RunEvent => ev({ ...sample['task.started'], attempt });

describe('the reducer with the table', () => {
  it('skips an illegal event, changes nothing, and keeps the latest few', () => {
    const s = reduceRun([
      runStarted(),
      ev({ type: 'task.ready', task: 'a' }),
      started(1),
      ev({ type: 'task.verifying', task: 'a' }),
      ev({ type: 'task.merging', task: 'a' }),
      ev(sample['task.merged']),
      ev({ type: 'task.ready', task: 'a' }),
      ev({ ...sample['task.failed'], final: true }),
    ])!;
    expect(s.tasks.a).toMatchObject({ status: 'merged', failures: 0 });
    expect(s.tasks.a!.failure).toBeUndefined();
    expect(s.skipped?.count).toBe(2);
    expect(s.skipped?.recent.map((x) => x.type)).toEqual(['task.ready', 'task.failed']);
    expect(s.skipped?.recent[0]).toMatchObject({ task: 'a', reason: expect.stringContaining('merged') });
    expect(s.eventCount).toBe(8);
  });

  it('timeout first: the late done report is skipped and the attempt fails and retries', () => {
    const s = reduceRun([
      runStarted(),
      ev({ type: 'task.ready', task: 'a' }),
      started(1),
      ev(sample['task.timed_out']),
      ev(sample['task.reported']),
      ev({ ...sample['task.failed'], category: 'timeout' }),
      ev(sample['task.retry']),
    ])!;
    expect(s.tasks.a).toMatchObject({ status: 'ready', failures: 1 });
    expect(s.tasks.a!.report).toBeUndefined();
    expect(s.skipped).toMatchObject({ count: 1, recent: [{ type: 'task.reported' }] });
    // The next attempt starts clean: its own deadline can fire.
    const next = applyEvent(s, started(2))!;
    expect(next.tasks.a!.ended).toBeUndefined();
    expect(applyEvent(next, ev({ ...sample['task.timed_out'], attempt: 2 }))!.skipped?.count).toBe(1);
  });

  it('keeps a lowered worker limit, and the plan limit above it', () => {
    const s = reduceRun([
      runStarted(),
      ev({ type: 'workers.throttled', maxWorkers: 2, reason: 'rate limited' }),
    ]) as RunState;
    expect(s.maxWorkers).toBe(4);
    expect(s.throttled).toMatchObject({ maxWorkers: 2, reason: 'rate limited' });
    expect(workerLimit(s)).toBe(2);
    // A review iteration's run.started keeps it.
    expect(workerLimit(applyEvent(s, runStarted())!)).toBe(2);
  });

  it('never leaves a terminal status except by task.reset from failed or cancelled', () => {
    const anyTaskEvent = fc.constantFrom(...TASK_EVENT_TYPES).chain((type) =>
      fc.record({
        type: fc.constant(type),
        attempt: fc.integer({ min: 0, max: 4 }),
        final: fc.boolean(),
        reconcile: fc.boolean(),
      }),
    );
    fc.assert(
      fc.property(fc.array(anyTaskEvent, { maxLength: 60 }), (draws) => {
        let s = reduceRun([runStarted()]) as RunState;
        for (const d of draws) {
          const base = sample[d.type] as Record<string, unknown>;
          const e = ev({
            ...base,
            ...('attempt' in base ? { attempt: d.attempt } : {}),
            ...(d.type === 'task.failed' ? { final: d.final } : {}),
            ...(d.type === 'task.merged' && d.reconcile ? { evidence: { source: 'reconcile', at } } : {}),
          } as RunEventInput);
          const before = s.tasks.a!.status;
          s = applyEvent(s, e)!;
          const after = s.tasks.a!.status;
          if (before === 'merged') expect(after).toBe('merged');
          if ((before === 'failed' || before === 'cancelled') && after !== before) {
            expect(e.type).toBe('task.reset');
            expect(after).toBe('pending');
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * The supervisor's decisions as tables: a run state built from journal events, the driver's last
 * fact, and the commands it must lead to. No git, no workers, no clock: milliseconds.
 */
import { describe, expect, it } from 'vitest';
import { RunEvent, reduceRun, type RunEventInput, type RunState } from '@orch/core';
import { runStarted } from '@orch/test-utils';
import {
  decideRun,
  decideTask,
  type Failure,
  type RunCommand,
  type RunFacts,
  type TaskCommand,
  type TaskFact,
} from '../src/supervisor/decide.js';

const TS = '2026-01-01T00:00:00.000Z';
const NOW = Date.parse(TS);
const cfg = { maxRetries: 1, rateLimitWaitSec: 30, now: NOW };

const at = (ev: RunEventInput): RunEvent => RunEvent.parse({ ts: TS, ...ev });
/** A run of tasks a, b (b depends on a), c and d, after `events`. */
function stateAfter(events: RunEventInput[], maxWorkers = 2): RunState {
  const planned = ['a', 'b', 'c', 'd'].map((id) => ({
    id,
    dependsOn: id === 'b' ? ['a'] : [],
    agent: 'shell',
    description: '',
  }));
  return reduceRun([
    at(runStarted(planned, { maxWorkers })),
    at({ type: 'run.phase', phase: 'running' }),
    ...events.map(at),
  ])!;
}

const ready = (...ids: string[]): RunEventInput[] => ids.map((task) => ({ type: 'task.ready', task }));
const started = (task: string, attempt = 1): RunEventInput => ({
  type: 'task.started',
  task,
  attempt,
  session: `s-${task}`,
  agent: 'shell',
  promptPath: 'p',
  logPath: 'l',
});
const verifying = (task: string): RunEventInput => ({ type: 'task.verifying', task });
const merged = (task: string): RunEventInput => ({
  type: 'task.merged',
  task,
  commit: 'b'.repeat(40),
  stagingBefore: 'a'.repeat(40),
  evidence: { source: 'merge', at: TS },
});
/** A task's way from started to merged. */
const landed = (task: string): RunEventInput[] => [started(task), verifying(task), merged(task)];
const failedFinal = (task: string): RunEventInput => ({
  type: 'task.failed',
  task,
  category: 'agent_failed',
  reason: 'x',
  final: true,
  evidence: { source: 'supervisor', at: TS },
});
const throttled = (maxWorkers: number): RunEventInput => ({
  type: 'workers.throttled',
  maxWorkers,
  reason: 't',
});

const facts = (over: Partial<RunFacts> = {}): RunFacts => ({
  driving: new Set(),
  priorities: new Map([
    ['a', 2],
    ['c', 1],
    ['d', 1],
  ]),
  hints: new Map(),
  ...over,
});
const drive = (task: string, hint?: object): RunCommand => ({
  kind: 'drive',
  task,
  how: { mode: 'schedule', ...(hint ? { hint } : {}) },
});
const wait: RunCommand = { kind: 'wait' };
const phase = (p: 'running' | 'needs_attention'): RunCommand => ({
  kind: 'journal',
  event:
    p === 'running'
      ? { type: 'run.phase', phase: 'running' }
      : {
          type: 'run.phase',
          phase: 'needs_attention',
          reason: 'every remaining task waits for a decision (see `orch deps list` and `orch state status`)',
        },
});
const blockedNeeds = (task: string): RunEventInput => ({
  type: 'task.blocked',
  task,
  reason: 'needs lodash',
  needs: 'lodash',
});

const runRows: [string, RunEventInput[], Partial<RunFacts>, RunCommand[], number?][] = [
  [
    'tasks without open dependencies become ready first',
    [],
    {},
    ['a', 'c', 'd'].map((task) => ({ kind: 'journal', event: { type: 'task.ready', task } })),
  ],
  ['longest path first, as many as the free slots', ready('a', 'c', 'd'), {}, [drive('a'), drive('c'), wait]],
  ['every live worker holds a slot', [...ready('a', 'c', 'd'), started('a'), started('c')], {}, [wait]],
  [
    'a verifying task holds no slot: the next one starts while it is checked',
    [...ready('a', 'c', 'd'), started('a'), started('c'), verifying('a'), verifying('c')],
    {},
    [drive('d'), wait],
  ],
  [
    'a merging task holds no slot either',
    [
      ...ready('a', 'c', 'd'),
      started('a'),
      verifying('a'),
      { type: 'task.merging', task: 'a' },
      started('c'),
    ],
    {},
    [drive('d'), wait],
  ],
  [
    'a driver still launching its ready task takes a slot, and the task is not driven twice',
    [...ready('a', 'c', 'd'), started('c')],
    { driving: new Set(['a']) },
    [wait],
  ],
  ['a throttled limit is the limit', [...ready('a', 'c', 'd'), throttled(1)], {}, [drive('a'), wait]],
  [
    'a requeued task starts with its hint',
    [...ready('a', 'c', 'd'), started('a'), started('c')],
    { hints: new Map([['d', { interrupted: true }]]) },
    [drive('d', { interrupted: true }), wait],
    3,
  ],
  [
    'every task finished and no driver left: finish the run',
    [
      ...ready('a', 'c', 'd'),
      ...landed('a'),
      ...ready('b'),
      ...landed('b'),
      ...landed('c'),
      failedFinal('d'),
    ],
    {},
    [{ kind: 'finish_run' }],
  ],
  [
    'every task finished but a driver is still in flight: wait for it',
    [
      ...ready('a', 'c', 'd'),
      ...landed('a'),
      ...ready('b'),
      ...landed('b'),
      ...landed('c'),
      failedFinal('d'),
    ],
    { driving: new Set(['d']) },
    [wait],
  ],
  [
    'finished while waiting for people: back to running, then finish',
    [
      ...ready('a', 'c', 'd'),
      ...landed('a'),
      ...ready('b'),
      ...landed('b'),
      ...landed('c'),
      failedFinal('d'),
      { type: 'run.phase', phase: 'needs_attention' },
    ],
    {},
    [phase('running')],
  ],
  [
    'every open task waits for a decision: needs attention',
    [
      ...ready('a', 'c', 'd'),
      ...landed('a'),
      ...ready('b'),
      ...landed('b'),
      blockedNeeds('c'),
      blockedNeeds('d'),
    ],
    { driving: new Set(['c', 'd']) },
    [phase('needs_attention')],
  ],
  [
    'someone answered: running again',
    [
      ...ready('a', 'c', 'd'),
      started('a'),
      blockedNeeds('c'),
      blockedNeeds('d'),
      { type: 'run.phase', phase: 'needs_attention' },
      { type: 'task.unblocked', task: 'd', reason: 'approved' },
    ],
    { driving: new Set(['c', 'd']) },
    [phase('running')],
  ],
];

describe('decideRun: the run loop', () => {
  it.each(runRows)('%s', (_name, events, over, commands, maxWorkers) => {
    expect(decideRun(stateAfter(events, maxWorkers), facts(over))).toEqual(commands);
  });
});

const failure = (source: Failure['source'], category: Failure['category'] = 'agent_failed'): Failure => ({
  category,
  reason: 'it broke',
  source,
  report: 'the log',
});
const journal = (event: RunEventInput): TaskCommand => ({ kind: 'journal', event });
const failedEv = (final: boolean, f: Failure): RunEventInput => ({
  type: 'task.failed',
  task: 'a',
  category: f.category,
  reason: f.reason,
  final,
  evidence: { source: f.source, at: TS, detail: f.category },
  report: 'the log',
});
const running = [...ready('a', 'c', 'd'), started('a')];
const retried: RunEventInput[] = [
  ...running,
  failedEv(false, failure('status-command')),
  { type: 'task.retry', task: 'a', attempt: 2, reason: 'it broke', category: 'agent_failed', report: 'r' },
];
const limit = (resetAt?: string): TaskFact => ({
  kind: 'worker',
  outcome: { kind: 'rate_limit', message: 'slow down', ...(resetAt ? { resetAt } : {}) },
  launched: { retry: { category: 'test_failed', reason: 'before' } },
});
const limitCommands = (waitMs: number): TaskCommand[] => {
  const until = new Date(NOW + waitMs).toISOString();
  return [
    journal({ type: 'workers.throttled', maxWorkers: 2, reason: 'rate limited (a): slow down', until }),
    journal({ type: 'task.blocked', task: 'a', reason: 'rate limited: slow down', until }),
    {
      kind: 'wait',
      until: { kind: 'time', ms: waitMs, then: { retry: { category: 'test_failed', reason: 'before' } } },
    },
  ];
};

const taskRows: [string, RunEventInput[], TaskFact, TaskCommand[], number?][] = [
  [
    'scheduled: the first attempt',
    ready('a'),
    { kind: 'begin', how: { mode: 'schedule' } },
    [{ kind: 'launch', attempt: 1 }],
  ],
  [
    'scheduled after a journaled retry: its report goes along (survives a resume)',
    retried,
    { kind: 'begin', how: { mode: 'schedule' } },
    [{ kind: 'launch', attempt: 2, retry: { category: 'agent_failed', reason: 'it broke', report: 'r' } }],
  ],
  [
    'scheduled after a blocked-on pause: told it was interrupted',
    running,
    { kind: 'begin', how: { mode: 'schedule', hint: { interrupted: true } } },
    [{ kind: 'launch', attempt: 2, interrupted: true }],
  ],
  [
    'resumed with no worker left: a new attempt, interrupted',
    running,
    { kind: 'begin', how: { mode: 'restart', hint: { interrupted: true } } },
    [{ kind: 'launch', attempt: 2, interrupted: true }],
  ],
  [
    'resumed with its worker alive: watch it',
    running,
    { kind: 'begin', how: { mode: 'watch' } },
    [{ kind: 'watch', attempt: 1 }],
  ],
  [
    'resumed after its done report: verify',
    running,
    { kind: 'begin', how: { mode: 'verify' } },
    [journal(verifying('a')), { kind: 'verify' }],
  ],
  [
    'resumed while blocked on another task: wait for it',
    [...running, { type: 'task.blocked', task: 'a', reason: 'waits', on: 'c' }],
    { kind: 'begin', how: { mode: 'wait' } },
    [{ kind: 'wait', until: { kind: 'task_finished', task: 'c', then: {} } }],
  ],
  [
    'resumed while waiting for a decision: wait for it, nothing journaled again',
    [...running, blockedNeeds('a')],
    { kind: 'begin', how: { mode: 'wait' } },
    [{ kind: 'wait', until: { kind: 'unblocked' } }],
  ],
  [
    'done by its report or its exit: verify',
    running,
    { kind: 'worker', outcome: { kind: 'done', evidence: 'x' }, launched: {} },
    [journal(verifying('a')), { kind: 'verify' }],
  ],
  [
    'stopped: nothing more',
    running,
    { kind: 'worker', outcome: { kind: 'stopped' }, launched: {} },
    [{ kind: 'end' }],
  ],
  [
    'failed with retries left: journal it and the retry, then queue the next attempt',
    running,
    { kind: 'worker', outcome: { kind: 'failed', ...failure('status-command') }, launched: {} },
    [
      journal(failedEv(false, failure('status-command'))),
      journal({
        type: 'task.retry',
        task: 'a',
        attempt: 2,
        reason: 'it broke',
        category: 'agent_failed',
        report: 'the log',
      }),
      { kind: 'requeue', hint: {} },
    ],
  ],
  [
    'failed for good: its dependents are cancelled',
    retried.concat(started('a', 2)),
    { kind: 'worker', outcome: { kind: 'failed', ...failure('status-command') }, launched: {} },
    [
      journal(failedEv(true, failure('status-command'))),
      journal({ type: 'task.cancelled', task: 'b', reason: 'dependency a failed' }),
      { kind: 'end' },
    ],
  ],
  [
    'verified: land exactly the pinned commit',
    [...running, verifying('a')],
    { kind: 'verified', pin: { commit: 'c'.repeat(40), tree: 'd'.repeat(40) } },
    [
      journal({ type: 'task.merging', task: 'a' }),
      { kind: 'merge', pin: { commit: 'c'.repeat(40), tree: 'd'.repeat(40) } },
    ],
  ],
  [
    'a failed check: the verifier diagnoses it before the retry',
    [...running, verifying('a')],
    { kind: 'checked', result: failure('verification', 'test_failed') },
    [
      journal(failedEv(false, failure('verification', 'test_failed'))),
      { kind: 'diagnose', failure: failure('verification', 'test_failed') },
    ],
  ],
  [
    'diagnosed: the retry carries the diagnosis',
    [...running, verifying('a'), failedEv(false, failure('verification', 'test_failed'))],
    {
      kind: 'diagnosed',
      retry: { category: 'test_failed', reason: 'it broke', report: 'log + diagnosis' },
      reason: 'it broke',
      category: 'test_failed',
    },
    [
      journal({
        type: 'task.retry',
        task: 'a',
        attempt: 2,
        reason: 'it broke',
        category: 'test_failed',
        report: 'log + diagnosis',
      }),
      { kind: 'requeue', hint: {} },
    ],
  ],
  [
    'merged: tidy up',
    [...running, verifying('a'), merged('a')],
    { kind: 'checked', result: 'merged' },
    [{ kind: 'cleanup_merged' }, { kind: 'end' }],
  ],
  [
    'merged in a throttled run: one worker back first',
    [throttled(1), ...running, verifying('a'), merged('a')],
    { kind: 'checked', result: 'merged' },
    [
      journal({ type: 'workers.throttled', maxWorkers: 2, reason: 'a merged: one more worker at once' }),
      { kind: 'cleanup_merged' },
      { kind: 'end' },
    ],
    4,
  ],
  [
    'blocked on another task: wait until it is finished',
    [...running, { type: 'task.blocked', task: 'a', reason: 'waits', on: 'c' }],
    {
      kind: 'worker',
      outcome: { kind: 'paused', on: 'c' },
      launched: { retry: { category: 'x', reason: 'y' } },
    },
    [
      {
        kind: 'wait',
        until: { kind: 'task_finished', task: 'c', then: { retry: { category: 'x', reason: 'y' } } },
      },
    ],
  ],
  [
    'the other task merged: unblock, bring staging in, next attempt interrupted',
    [...running, { type: 'task.blocked', task: 'a', reason: 'waits', on: 'c' }],
    { kind: 'settled', on: 'c', status: 'merged', launched: { retry: { category: 'x', reason: 'y' } } },
    [
      journal({ type: 'task.unblocked', task: 'a', reason: 'c is merged into staging' }),
      { kind: 'sync_staging' },
      { kind: 'requeue', hint: { retry: { category: 'x', reason: 'y' }, interrupted: true } },
    ],
  ],
  [
    'the other task failed: go on without it',
    [...running, { type: 'task.blocked', task: 'a', reason: 'waits', on: 'c' }],
    { kind: 'settled', on: 'c', status: 'failed', launched: {} },
    [
      journal({ type: 'task.unblocked', task: 'a', reason: 'c ended failed; go on without it' }),
      { kind: 'sync_staging' },
      { kind: 'requeue', hint: { interrupted: true } },
    ],
  ],
  [
    'blocked by its report: journal the request and wait for a decision',
    running,
    { kind: 'worker', outcome: { kind: 'blocked', needs: 'lodash', reason: 'needs lodash' }, launched: {} },
    [
      journal({ type: 'task.blocked', task: 'a', reason: 'needs lodash', needs: 'lodash' }),
      { kind: 'wait', until: { kind: 'unblocked' } },
    ],
  ],
  [
    'approved or denied: staging in, the next attempt told the answer',
    [...running, blockedNeeds('a'), { type: 'task.unblocked', task: 'a', reason: 'lodash approved' }],
    { kind: 'decided', reason: 'lodash approved' },
    [
      { kind: 'sync_staging' },
      { kind: 'requeue', hint: { retry: { category: 'dependency', reason: 'lodash approved' } } },
    ],
  ],
  [
    'a rate limit without a reset time: halve, block, wait the configured time',
    running,
    limit(),
    limitCommands(30_000),
    4,
  ],
  [
    'a rate limit with a reset time: wait until it',
    running,
    limit(new Date(NOW + 90_000).toISOString()),
    limitCommands(90_000),
    4,
  ],
  [
    'a reset time in the past: the configured wait',
    running,
    limit(new Date(NOW - 1_000).toISOString()),
    limitCommands(30_000),
    4,
  ],
  [
    'a reset time days away: at most six hours',
    running,
    limit(new Date(NOW + 3 * 86_400_000).toISOString()),
    limitCommands(6 * 3600_000),
    4,
  ],
  [
    'the limit is over: unblock and queue the next attempt with the same retry',
    [...running, { type: 'task.blocked', task: 'a', reason: 'rate limited' }],
    { kind: 'limit_over', launched: { retry: { category: 'x', reason: 'y' } } },
    [
      journal({ type: 'task.unblocked', task: 'a', reason: 'limit reset' }),
      { kind: 'requeue', hint: { retry: { category: 'x', reason: 'y' } } },
    ],
  ],
];

describe('decideTask: one task from launch to merged or failed for good', () => {
  it.each(taskRows)('%s', (_name, events, fact, commands, maxWorkers) => {
    expect(decideTask(stateAfter(events, maxWorkers), 'a', fact, cfg)).toEqual(commands);
  });
});

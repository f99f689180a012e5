import { describe, expect, it } from 'vitest';
import {
  RunEvent,
  allFinished,
  dependentsToCancel,
  newlyReady,
  onlyWaitingOnHumans,
  pickToStart,
  reduceRun,
  type RunEventInput,
} from '../src/index.js';

let clock = 0;
const ev = (e: RunEventInput): RunEvent =>
  RunEvent.parse({ ts: new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString(), ...e });

const started = ev({
  type: 'run.started',
  run: 'r1',
  request: 'req',
  repoRoot: '/repo',
  planPath: 'tasks.yaml',
  base: 'main',
  baseCommit: 'b0',
  staging: 'orch/r1/staging',
  stagingCommit: 's0',
  envHash: 'no-lock',
  maxWorkers: 2,
  tasks: [
    { id: 'a', dependsOn: [], agent: 'shell' },
    { id: 'b', dependsOn: [], agent: 'shell' },
    { id: 'c', dependsOn: ['a'], agent: 'shell' },
    { id: 'd', dependsOn: ['c'], agent: 'shell' },
    { id: 'e', dependsOn: ['b'], agent: 'shell' },
  ],
});
const evidence = { source: 'merge' as const, at: '2026-01-01T00:00:00Z' };

describe('run state from the journal', () => {
  it('follows a task from pending to merged and moves staging with it', () => {
    const s = reduceRun([
      started,
      ev({ type: 'task.ready', task: 'a' }),
      ev({
        type: 'task.started',
        task: 'a',
        attempt: 1,
        session: 's',
        agent: 'shell',
        promptPath: 'p',
        logPath: 'l',
      }),
      ev({ type: 'task.progress', task: 'a', message: 'halfway' }),
      ev({ type: 'task.verifying', task: 'a' }),
      ev({ type: 'task.merged', task: 'a', commit: 's1', stagingBefore: 's0', evidence }),
    ])!;
    expect(s.tasks.a).toMatchObject({
      status: 'merged',
      attempt: 1,
      mergeCommit: 's1',
      progress: ['halfway'],
    });
    expect(s.stagingCommit).toBe('s1');
    expect(newlyReady(s)).toEqual(['b', 'c']);
  });

  it('keeps usage figures a partial update does not carry', () => {
    const s = reduceRun([
      started,
      ev({ type: 'task.activity', task: 'a', usage: { contextWindow: 200_000, inputTokens: 10 } }),
      ev({ type: 'task.activity', task: 'a', usage: { costUsd: 0.5 } }),
    ])!;
    expect(s.tasks.a!.usage).toMatchObject({ contextWindow: 200_000, inputTokens: 10, costUsd: 0.5 });
  });

  it('counts failures, and a reset gives a failed task a new chance; a reopened run loses its outcome', () => {
    const fail = (final: boolean): RunEvent =>
      ev({ type: 'task.failed', task: 'a', category: 'test_failed', reason: 'x', final, evidence });
    let s = reduceRun([started, fail(false), fail(true), ev({ type: 'run.finished', outcome: 'failed' })])!;
    expect(s.tasks.a).toMatchObject({ status: 'failed', failures: 2 });
    expect(s.outcome).toBe('failed');
    s = reduceRun([
      started,
      fail(true),
      ev({ type: 'run.finished', outcome: 'failed' }),
      ev({ type: 'run.phase', phase: 'running' }),
      ev({ type: 'task.reset', task: 'a', reason: 'resumed' }),
    ])!;
    expect(s.outcome).toBeUndefined();
    expect(s.tasks.a).toMatchObject({ status: 'pending', failures: 0 });
  });

  it('adds tasks from a review iteration after the existing ones', () => {
    const s = reduceRun([
      started,
      ev({ type: 'tasks.added', reason: 'review 1', tasks: [{ id: 'f', dependsOn: ['d'], agent: 'shell' }] }),
    ])!;
    expect(s.order).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(s.tasks.f!.status).toBe('pending');
  });
});

describe('scheduling decisions', () => {
  it('starts ready tasks longest remaining path first, within the free slots', () => {
    const s = reduceRun([
      started,
      ev({ type: 'task.ready', task: 'a' }),
      ev({ type: 'task.ready', task: 'b' }),
    ])!;
    const priority = new Map([
      ['a', 3],
      ['b', 2],
    ]);
    expect(pickToStart(s, priority, 1)).toEqual(['a']);
    expect(pickToStart(s, new Map([['b', 5]]), 2)).toEqual(['b', 'a']);
    const busy = reduceRun([
      started,
      ev({ type: 'task.ready', task: 'b' }),
      ev({
        type: 'task.started',
        task: 'a',
        attempt: 1,
        session: 's',
        agent: 'shell',
        promptPath: 'p',
        logPath: 'l',
      }),
    ])!;
    expect(pickToStart(busy, priority, 1)).toEqual([]);
  });

  it('cancels every unfinished dependent of a failed task, transitively, in plan order', () => {
    const s = reduceRun([started])!;
    expect(dependentsToCancel(s, 'a')).toEqual(['c', 'd']);
    expect(dependentsToCancel(s, 'b')).toEqual(['e']);
    expect(dependentsToCancel(s, 'd')).toEqual([]);
  });

  it('knows when only people can move the run, and when it is all finished', () => {
    const blocked = reduceRun([
      { ...started, tasks: [{ id: 'a', dependsOn: [], agent: 'shell', description: '' }] } as RunEvent,
      ev({ type: 'task.blocked', task: 'a', reason: 'needs lodash', needs: 'lodash@4' }),
    ])!;
    expect(onlyWaitingOnHumans(blocked)).toBe(true);
    expect(allFinished(blocked)).toBe(false);
  });
});

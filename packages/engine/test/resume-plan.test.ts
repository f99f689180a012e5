import { runStarted } from '@orch/test-utils';
import { describe, expect, it } from 'vitest';
import { RunEvent, reduceRun, type RunEventInput, type RunState } from '@orch/core';
import { classify, type TaskFacts, type WorldFacts } from '../src/run/resume-plan.js';

// Every row of docs/resume.md as a case of the pure classifier: a journal, what resume found, the plan.

let clock = 0;
const ev = (e: RunEventInput): RunEvent =>
  RunEvent.parse({ ts: new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString(), ...e });
const at = '2026-01-01T00:00:00.000Z';
const started = (attempt = 1): RunEventInput => ({
  type: 'task.started',
  task: 'a',
  attempt,
  session: 's',
  agent: 'shell',
  promptPath: 'p',
  logPath: 'l',
});

function state(
  events: RunEventInput[],
  tasks = [{ id: 'a', dependsOn: [] as string[], agent: 'shell' }],
): RunState {
  return reduceRun([
    ev(runStarted(tasks, { baseCommit: 'b0', stagingCommit: 's0' })),
    ...events.map(ev),
  ]) as RunState;
}

const none: TaskFacts = {
  branchTip: null,
  worktree: { exists: false, git: false, dirty: false },
  session: { exists: false, alive: false },
  branchLanded: false,
  missingDeps: [],
  launched: 0,
};
/** A task with its worktree and branch, its worker gone: what a killed supervisor leaves. */
const left: TaskFacts = { ...none, branchTip: 'tip', worktree: { exists: true, git: true, dirty: false } };

function world(tasks: Record<string, Partial<TaskFacts>>, over: Partial<WorldFacts> = {}): WorldFacts {
  return {
    stagingTip: 's0',
    tornTail: false,
    leftoverCommands: [],
    runWorktrees: [],
    supervisorSession: { name: 'orch-r1', exists: false, dead: false },
    tasks: Object.fromEntries(Object.entries(tasks).map(([k, v]) => [k, { ...left, ...v }])),
    ...over,
  };
}

const names = {
  taskBranch: (t: string) => `orch/r1/${t}/work`,
  archiveBranch: (t: string, n: number) => `orch/r1/archive/${t}-${n}`,
};
const plan = (s: RunState, w: WorldFacts) => classify(s, w, names);
const item = (s: RunState, w: WorldFacts, task = 'a') => plan(s, w).items.find((i) => i.task === task);
const kinds = (s: RunState, w: WorldFacts) => plan(s, w).repairs.map((r) => r.kind);

const running = state([{ type: 'task.ready', task: 'a' }, started()]);

describe('classify: the rows of docs/resume.md', () => {
  it('the task already landed on staging and its check passed: records it as merged', () => {
    const w = world({ a: { landing: { verified: 'v'.repeat(40), checked: true } } });
    expect(item(running, w)).toMatchObject({
      action: 'merged',
      detail: expect.stringContaining('vvvvvvvvvvvv'),
    });
  });

  it('it landed before its incremental check finished: verifies it again (the check runs)', () => {
    const w = world({ a: { landing: { verified: 'v', checked: false } } });
    expect(item(running, w)?.action).toBe('verify');
  });

  it('the task is merged but its worktree, branch or session is still there: tidies them', () => {
    const merged = state([
      { type: 'task.ready', task: 'a' },
      started(),
      { type: 'task.merged', task: 'a', commit: 'm', stagingBefore: 's0', evidence: { source: 'merge', at } },
    ]);
    const w = world({ a: { branchLanded: true, session: { exists: true, alive: false } } });
    expect(item(merged, w)?.action).toBe('none');
    expect(plan(merged, w).repairs).toEqual([
      { kind: 'tidy-merged', task: 'a', what: 'a is merged: remove its leftover worktree, branch, session' },
    ]);
    // A branch with work staging lacks is not named (and so not deleted).
    expect(plan(merged, world({ a: { branchLanded: false } })).repairs[0]?.what).toBe(
      'a is merged: remove its leftover worktree',
    );
    expect(kinds(merged, world({ a: { ...none } }))).toEqual([]);
  });

  it("the worker's session is alive: watches it again, never kills it", () => {
    const w = world({ a: { session: { exists: true, alive: true, pid: 42 } } });
    expect(item(running, w)).toMatchObject({ action: 'watch', detail: expect.stringContaining('pid 42') });
    expect(kinds(running, w)).toEqual([]);
  });

  it('no live session, and the worker reported done (or was being verified or merged): verifies it', () => {
    const reported = state([
      { type: 'task.ready', task: 'a' },
      started(),
      { type: 'task.reported', task: 'a', status: 'done', evidence: { source: 'status-command', at } },
    ]);
    expect(item(reported, world({ a: {} }))?.action).toBe('verify');
    for (const step of ['task.verifying', 'task.merging'] as const) {
      const s = state([
        { type: 'task.ready', task: 'a' },
        started(),
        { type: 'task.verifying', task: 'a' },
        { type: step, task: 'a' },
      ]);
      expect(item(s, world({ a: {} }))?.action, step).toBe('verify');
    }
  });

  it('no live session and no report: restarts in the same worktree, clearing git locks', () => {
    expect(item(running, world({ a: {} }))).toMatchObject({
      action: 'restart',
      detail: expect.stringContaining('start attempt 2 in the same worktree'),
    });
    expect(kinds(running, world({ a: {} }))).toEqual(['git-locks']);
  });

  it('the worktree is gone but the branch is there: recreates it, then verifies or restarts', () => {
    const w = world({ a: { worktree: { exists: false, git: false, dirty: false } } });
    expect(kinds(running, w)).toEqual(['recreate-worktree']);
    expect(item(running, w)?.action).toBe('restart');
  });

  it('the branch is gone as well: starts the task again from staging', () => {
    const w = world({ a: { ...none } });
    expect(item(running, w)).toMatchObject({
      action: 'restart',
      detail: expect.stringContaining('afresh from staging'),
    });
    expect(kinds(running, w)).toEqual([]);
  });

  it('a start never journaled: records it, then watches it (alive) or restarts with the next number', () => {
    const ready = state([{ type: 'task.ready', task: 'a' }]);
    const alive = world({ a: { launched: 1, session: { exists: true, alive: true } } });
    expect(plan(ready, alive).repairs[0]).toMatchObject({ kind: 'record-start', attempt: 1, alive: true });
    expect(item(ready, alive)?.action).toBe('watch');
    const gone = world({ a: { launched: 2 } });
    expect(plan(running, gone).repairs[0]).toMatchObject({ kind: 'record-start', attempt: 2, alive: false });
    expect(item(running, gone)?.detail).toMatch(/attempt 3/);
  });

  it('the task is blocked or waits for a person: waits for that decision again', () => {
    const blocked = state([
      { type: 'task.ready', task: 'a' },
      started(),
      { type: 'task.blocked', task: 'a', reason: 'needs lodash', needs: 'lodash@4' },
    ]);
    expect(item(blocked, world({ a: {} }))).toMatchObject({ action: 'wait', detail: 'waits for lodash@4' });
  });

  it('the task has not started yet: leaves it to the scheduler', () => {
    expect(item(state([]), world({ a: { ...none } }))).toMatchObject({
      action: 'schedule',
      detail: 'not started yet',
    });
  });

  it("a branch that lacks a dependency's merge: archived, then started afresh; never with uncommitted work", () => {
    const s = state(
      [],
      [
        { id: 'a', dependsOn: [], agent: 'shell' },
        { id: 'b', dependsOn: ['a'], agent: 'shell' },
      ],
    );
    const w = world({ a: { ...none }, b: { missingDeps: ['a'] } });
    expect(plan(s, w).repairs).toEqual([
      {
        kind: 'archive',
        task: 'b',
        branch: 'orch/r1/b/work',
        what: 'b: its branch lacks a; keep it as orch/r1/archive/b-1(-n) and start afresh',
      },
    ]);
    expect(item(s, w, 'b')?.action).toBe('schedule');
    const dirty = world({
      a: { ...none },
      b: { missingDeps: ['a'], worktree: { exists: true, git: true, dirty: true } },
    });
    expect(kinds(s, dirty)).toEqual([]);
  });
});

describe('classify: runs that ended, and the repairs before anything else', () => {
  const failed = state([
    { type: 'task.ready', task: 'a' },
    started(),
    {
      type: 'task.failed',
      task: 'a',
      category: 'test_failed',
      reason: 'x',
      final: true,
      evidence: { source: 'verification', at },
    },
    { type: 'run.finished', outcome: 'failed' },
  ]);

  it('a failed run is reopened: a failed task with its branch is verified again, without it scheduled', () => {
    expect(plan(failed, world({ a: {} }))).toMatchObject({ reopen: true, finished: false });
    expect(item(failed, world({ a: {} }))?.action).toBe('verify');
    expect(item(failed, world({ a: { ...none } }))?.action).toBe('schedule');
  });

  it('a cancelled task of a reopened run is scheduled again; a finished one in a running run stays', () => {
    const cancelled = state([
      { type: 'task.cancelled', task: 'a', reason: 'dependency failed' },
      { type: 'run.finished', outcome: 'needs_attention' },
    ]);
    expect(item(cancelled, world({ a: { ...none } }))?.action).toBe('schedule');
    const open = state([{ type: 'task.cancelled', task: 'a', reason: 'x' }]);
    expect(item(open, world({ a: { ...none } }))).toMatchObject({ action: 'none', detail: 'cancelled' });
  });

  it("a succeeded run is over; what it left behind is removed (worktrees, the supervisor's session)", () => {
    const done = state([{ type: 'run.finished', outcome: 'succeeded' }]);
    const w = world(
      { a: { ...none } },
      {
        runWorktrees: ['/repo/.worktrees/_integration'],
        supervisorSession: { name: 'orch-r1', exists: true, dead: false },
      },
    );
    const p = plan(done, w);
    expect(p).toMatchObject({ finished: true, reopen: false });
    expect(p.repairs.map((r) => r.kind)).toEqual(['run-worktree', 'supervisor-session']);
    // A live run's worktrees are not leftovers, nor is its supervisor's live session.
    expect(kinds(running, { ...w, tasks: { a: left } })).toEqual(['git-locks']);
  });

  it('a torn journal line, leftover commands, an explained staging move and a dead supervisor pane come first', () => {
    const w = world(
      { a: { session: { exists: true, alive: true } } },
      {
        tornTail: true,
        leftoverCommands: [{ pgid: 7, command: 'npm test', startedAt: at }],
        stagingTip: 's1'.padEnd(40, '0'),
        stagingMove: 'its landing of a',
        supervisorSession: { name: 'orch-r1', exists: true, dead: true },
      },
    );
    const p = plan(running, w);
    expect(p.repairs.map((r) => r.kind)).toEqual([
      'journal',
      'leftover-command',
      'staging',
      'supervisor-session',
    ]);
    expect(p.repairs[2]).toMatchObject({ from: 's0', to: w.stagingTip });
    expect(p.repairs[1]?.what).toContain('process group 7');
  });
});

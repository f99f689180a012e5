import { describe, expect, it } from 'vitest';
import { applyEvent, RunEvent, type RunEventInput, type RunState } from '@orch/core';
import { runStarted } from '@orch/test-utils';
import { upcomingWorktrees } from '../src/worker/pool.js';

const state = (events: RunEventInput[]): RunState => {
  let s: RunState | undefined;
  for (const e of events) s = applyEvent(s, RunEvent.parse({ ts: new Date(0).toISOString(), ...e }));
  return s as RunState;
};

describe('upcomingWorktrees: tasks getting their worktree right now', () => {
  const plan = runStarted([
    { id: 'a', dependsOn: [], agent: 'shell', description: '' },
    { id: 'b', dependsOn: [], agent: 'shell', description: '' },
    { id: 'c', dependsOn: ['a'], agent: 'shell', description: '' },
  ]);
  const ready: RunEventInput[] = [plan, { type: 'task.ready', task: 'a' }, { type: 'task.ready', task: 'b' }];

  it('does not count a ready task that is taking or making its worktree: a spare would only compete with it', () => {
    expect(upcomingWorktrees(state(ready))).toBe(2);
    expect(upcomingWorktrees(state(ready), new Set(['a']))).toBe(1);
    expect(upcomingWorktrees(state(ready), new Set(['a', 'b']))).toBe(0);
  });

  it('still counts the tasks waiting on one that is making its worktree', () => {
    const landing: RunEventInput[] = [
      ...ready,
      { type: 'task.worktree', task: 'a', path: '/w/a', branch: 'x', baseCommit: 'c' },
      { type: 'task.verifying', task: 'a' },
    ];
    // c waits on a alone (verifying): soon, whatever b is doing.
    expect(upcomingWorktrees(state(landing), new Set(['b']))).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { type RunEvent, type RunState } from '@orch/core';
import { describeEvent } from '../src/commands/run/progress.js';

const ts = '2026-12-01T10:00:00.000Z';
const state = {} as RunState;

describe('the plain progress lines', () => {
  it('names a batch of several merged together, and stays quiet for a batch of one', () => {
    const batch = (tasks: string[], landed: string[], checks: number): RunEvent =>
      ({
        type: 'merge.batch',
        ts,
        tasks,
        landed,
        tip: 'abc',
        checks,
        ok: landed.length === tasks.length,
      }) as RunEvent;
    expect(describeEvent(batch(['a', 'b', 'c'], ['a', 'c'], 3), state)).toContain(
      'merged 2 of a batch of 3 with 3 checks',
    );
    expect(describeEvent(batch(['a'], ['a'], 1), state)).toBeUndefined();
  });

  it('says nothing of a passed check (its merge or verification line says it)', () => {
    const ev = {
      type: 'check.passed',
      ts,
      command: 'npm test',
      tree: 't',
      commit: 'c',
      by: 'merge',
      tasks: ['a'],
    } as RunEvent;
    expect(describeEvent(ev, state)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { RunEvent, parsePlan } from '@orch/core';
import { runStarted, shellPlan } from '../src/fixtures.js';

describe('shared fixtures', () => {
  it('runStarted is a valid run.started event with shell tasks and the overrides given', () => {
    const ev = RunEvent.parse({
      ts: new Date(0).toISOString(),
      ...runStarted(['a', 'b'], { run: 'r9', maxWorkers: 4 }),
    });
    expect(ev).toMatchObject({
      type: 'run.started',
      run: 'r9',
      staging: 'orch/r9/staging',
      maxWorkers: 4,
      tasks: [
        { id: 'a', dependsOn: [], agent: 'shell' },
        { id: 'b', dependsOn: [], agent: 'shell' },
      ],
    });
  });

  it('shellPlan writes a plan the loader reads back: scripts verbatim, dependencies and checks', () => {
    const plan = parsePlan(
      shellPlan([
        { id: 'a', files_write: ['a.txt'], run: 'echo "a: 1" > a.txt\ngit add -A && git commit -qm a' },
        {
          id: 'b',
          depends_on: ['a'],
          files_write: ['b.txt'],
          verify: ['test -s b.txt'],
          run: 'echo b > b.txt',
        },
      ]),
      'tasks.yaml',
    );
    expect(plan.tasks.map((t) => [t.id, t.agent, t.depends_on, t.files_write])).toEqual([
      ['a', 'shell', [], ['a.txt']],
      ['b', 'shell', ['a'], ['b.txt']],
    ]);
    expect(plan.tasks[0]?.run).toBe('echo "a: 1" > a.txt\ngit add -A && git commit -qm a\n');
    expect(plan.tasks[1]?.verification.map((v) => v.command)).toEqual(['test -s b.txt']);
  });
});

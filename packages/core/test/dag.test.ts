import { describe, expect, it } from 'vitest';
import { analyzeDag, findCycle, remainingPathLengths } from '../src/index.js';
import { planOf } from './helpers.js';

describe('analyzeDag', () => {
  it('computes sorted waves and the critical path with the seed keys', () => {
    const plan = planOf([
      { id: 'd', depends_on: ['b', 'c'] },
      { id: 'c', depends_on: ['a'] },
      { id: 'b', depends_on: ['a'] },
      { id: 'z' },
      { id: 'a' },
      { id: 'e', depends_on: ['d'] },
    ]);
    const r = analyzeDag(plan);
    expect(r).toEqual({
      valid: true,
      errors: [],
      issues: [],
      waves: [['a', 'z'], ['b', 'c'], ['d'], ['e']],
      total_waves: 4,
      total_tasks: 6,
      critical_path: ['a', 'b', 'd', 'e'],
      critical_path_length: 4,
    });
    // Same result whatever the task order.
    expect(
      analyzeDag(planOf([...plan.tasks].reverse().map((t) => ({ id: t.id, depends_on: t.depends_on })))),
    ).toEqual(r);
  });

  it('lists unknown dependencies with the known ids', () => {
    const r = analyzeDag(planOf([{ id: 'a', depends_on: ['zz'] }, { id: 'b' }]));
    expect(r.valid).toBe(false);
    expect(r.errors).toEqual(["Task 'a' depends on 'zz' which does not exist. Known task IDs: ['a', 'b']"]);
    expect(r.waves).toEqual([]);
  });

  it('prints a cycle as its path', () => {
    const r = analyzeDag(
      planOf([{ id: 'a', depends_on: ['b'] }, { id: 'b', depends_on: ['a'] }, { id: 'c' }]),
    );
    expect(r.valid).toBe(false);
    expect(r.cycle).toEqual(['a', 'b', 'a']);
    expect(r.errors).toEqual(['Circular dependency detected: a → b → a']);
    const long = planOf([
      { id: 'x' },
      { id: 'a', depends_on: ['x', 'b'] },
      { id: 'b', depends_on: ['c'] },
      { id: 'c', depends_on: ['a'] },
    ]);
    expect(findCycle(long)).toEqual(['a', 'b', 'c', 'a']);
  });

  it('handles a 10,000-task chain without recursion', () => {
    const tasks = Array.from({ length: 10_000 }, (_, i) => ({
      id: `t${i}`,
      ...(i > 0 ? { depends_on: [`t${i - 1}`] } : {}),
    }));
    const r = analyzeDag(planOf(tasks));
    expect(r.total_waves).toBe(10_000);
    expect(r.critical_path_length).toBe(10_000);
    expect(remainingPathLengths(planOf(tasks)).get('t0')).toBe(10_000);
  });
});

describe('remainingPathLengths', () => {
  it('counts the longest chain to a sink, including the task', () => {
    const m = remainingPathLengths(
      planOf([
        { id: 'a' },
        { id: 'b', depends_on: ['a'] },
        { id: 'c', depends_on: ['b'] },
        { id: 'd', depends_on: ['a'] },
        { id: 'e' },
      ]),
    );
    expect(Object.fromEntries(m)).toEqual({ a: 3, b: 2, c: 1, d: 1, e: 1 });
  });
  it('is empty for a cyclic plan', () => {
    expect(
      remainingPathLengths(
        planOf([
          { id: 'a', depends_on: ['b'] },
          { id: 'b', depends_on: ['a'] },
        ]),
      ).size,
    ).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ConflictCollector,
  conflictEntries,
  detectConflicts,
  globMatch,
  globsOverlap,
  literalTail,
  type ConflictEntry,
  type ConflictReport,
  type Plan,
} from '../src/index.js';
import { planOf } from './helpers.js';

/**
 * The straightforward check the indexed one must agree with: every pair of entries, patterns
 * compared with globsOverlap, ordering by a plain search of the dependency graph.
 */
function pairwiseConflicts(plan: Plan): ConflictReport {
  const last = new Map(plan.tasks.map((t, i) => [t.id, i]));
  const deps = plan.tasks.map((t) =>
    t.depends_on.flatMap((d) => (last.has(d) ? [last.get(d) as number] : [])),
  );
  const reaches = (from: number, to: number): boolean => {
    const seen = new Set<number>();
    const stack = [from];
    while (stack.length > 0) {
      for (const d of deps[stack.pop() as number] as number[]) {
        if (d === to) return true;
        if (!seen.has(d)) {
          seen.add(d);
          stack.push(d);
        }
      }
    }
    return false;
  };
  const collector = new ConflictCollector(plan);
  const { files, resources } = conflictEntries(plan);
  const all = (entries: ConflictEntry[], kind: 'file' | 'resource'): void => {
    entries.forEach((x, i) =>
      entries.slice(i + 1).forEach((y) => {
        if (x.task === y.task || reaches(x.task, y.task) || reaches(y.task, x.task)) return;
        if (x.pattern === y.pattern || globsOverlap(x.pattern, y.pattern)) collector.add(x, y, kind);
      }),
    );
  };
  all(files, 'file');
  all(resources, 'resource');
  return collector.report();
}

const segment = fc.constantFrom(
  'src',
  'a',
  'ab',
  'b.ts',
  '*',
  '**',
  '*.ts',
  'a*',
  '*b.ts',
  '{a,b}',
  '?',
  '[ab]',
  '@(a|b)',
  'x.m1.ts',
  '*.m1.ts',
  '*.m11.ts',
);
const pattern = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
const patterns = fc.uniqueArray(pattern, { maxLength: 3 });
const resources = fc.uniqueArray(fc.constantFrom('db', 'cache', 'route:/x', 'route:/*', 'q*'), {
  maxLength: 2,
});

const plans = fc
  .integer({ min: 2, max: 9 })
  .chain((n) =>
    fc.array(
      fc.record({
        files_write: patterns,
        files_read: patterns,
        files_append: patterns,
        resources_write: resources,
        resources_read: resources,
        // Any other task, an unknown one, or none: cycles included (they order their tasks both ways).
        depends_on: fc.uniqueArray(fc.integer({ min: -1, max: n - 1 }), { maxLength: 3 }),
      }),
      { minLength: n, maxLength: n },
    ),
  )
  .map((tasks) =>
    tasks.map((t, i) => ({
      ...t,
      id: `t${i}`,
      depends_on: t.depends_on.filter((d) => d !== i).map((d) => (d < 0 ? 'unknown' : `t${d}`)),
    })),
  );

describe('detectConflicts against the pairwise check', () => {
  it('property: reports exactly the conflicts that comparing every pair finds', () => {
    fc.assert(
      fc.property(plans, (tasks) => {
        const plan = planOf(tasks);
        expect(detectConflicts(plan)).toEqual(pairwiseConflicts(plan));
      }),
      { numRuns: 400 },
    );
  });

  it('property: every path a glob matches ends with its literal tail', () => {
    const path = fc
      .array(fc.constantFrom('src', 'a', 'ab', 'b', 'b.ts', 'x.m1.ts', 'y.m11.ts', 'a.ts', '.env'), {
        minLength: 1,
        maxLength: 4,
      })
      .map((parts) => parts.join('/'));
    fc.assert(
      fc.property(pattern, path, (p, x) => {
        if (globMatch(p, x)) expect(x.endsWith(literalTail(p))).toBe(true);
      }),
      { numRuns: 5000 },
    );
    expect(literalTail('**/*.test.ts')).toBe('.test.ts');
    expect(literalTail('**/x/a.ts')).toBe('x/a.ts');
    expect(literalTail('src/**')).toBe('');
    expect(literalTail('src/a.ts')).toBe('src/a.ts');
  });
});

describe('the two shapes that used to cost every pair', () => {
  it('k ordered tasks writing one file: no conflict, and one unordered writer meets each of them', () => {
    const chain = Array.from({ length: 2000 }, (_, i) => ({
      id: `c${i}`,
      files_write: ['src/registry.ts'],
      files_read: ['src/registry.ts', 'README.md'],
      ...(i > 0 ? { depends_on: [`c${i - 1}`] } : {}),
    }));
    expect(detectConflicts(planOf(chain)).count).toBe(0);
    const r = detectConflicts(planOf([...chain, { id: 'side', files_write: ['src/registry.ts'] }]));
    expect(r.count).toBe(2000);
    expect(new Set(r.conflicts.map((c) => c.type))).toEqual(new Set(['file_write_write']));
    expect(r.conflicts.every((c) => c.tasks.includes('side'))).toBe(true);
  });

  it('many different prefix-less globs: only the ones that can match one path meet', () => {
    const tasks = Array.from({ length: 2000 }, (_, i) => ({
      id: `g${i}`,
      files_write: [`**/*.m${i}.ts`, `pkg/m${i}/index.ts`],
    }));
    expect(detectConflicts(planOf(tasks)).count).toBe(0);
    const r = detectConflicts(
      planOf([...tasks, { id: 'x', files_read: ['pkg/m7/a.m7.ts', 'lib/**/*.m12.ts'] }]),
    );
    expect(r.conflicts.map((c) => `${c.tasks.join(',')} ${c.target}`)).toEqual([
      'x,g12 lib/**/*.m12.ts & **/*.m12.ts',
      'x,g7 pkg/m7/a.m7.ts',
    ]);
  });
});

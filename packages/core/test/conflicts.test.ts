import { describe, expect, it } from 'vitest';
import { detectConflicts } from '../src/index.js';
import { planOf } from './helpers.js';

describe('detectConflicts', () => {
  it('finds write/write between unordered tasks, with a suggested edge', () => {
    const r = detectConflicts(
      planOf([
        { id: 'a', files_write: ['src/x.ts'] },
        { id: 'b', files_write: ['src/x.ts'] },
      ]),
    );
    expect(r).toEqual({
      count: 1,
      conflicts: [
        {
          type: 'file_write_write',
          target: 'src/x.ts',
          tasks: ['a', 'b'],
          detail: 'a writes src/x.ts while b writes src/x.ts, and neither depends on the other',
          suggestion: 'Add dependency: b depends_on [a]',
        },
      ],
    });
  });

  it('is glob-aware: a glob against a path, and two globs that can match one path', () => {
    const r = detectConflicts(
      planOf([
        { id: 'a', files_write: ['src/**'] },
        { id: 'b', files_write: ['src/a.ts'] },
        { id: 'c', files_write: ['lib/*.ts'] },
        { id: 'd', files_write: ['lib/util*'] },
        { id: 'e', files_write: ['lib/*.js'] },
      ]),
    );
    const pairs = r.conflicts.map((c) => `${c.tasks.join('+')}:${c.target}`);
    expect(pairs).toContain('a+b:src/a.ts');
    expect(pairs).toContain('c+d:lib/*.ts & lib/util*');
    expect(pairs.some((p) => p.startsWith('c+e') || p.startsWith('d+e'))).toBe(true); // lib/util* vs lib/*.js
    expect(pairs.some((p) => p.startsWith('c+e'))).toBe(false); // *.ts and *.js never meet
  });

  it('judges ordering per pair (the seed called a group ordered when any pair was)', () => {
    const r = detectConflicts(
      planOf([
        { id: 'a', files_write: ['x.ts'] },
        { id: 'b', files_write: ['x.ts'], depends_on: ['a'] },
        { id: 'c', files_write: ['x.ts'] },
      ]),
    );
    expect(r.conflicts.map((c) => c.tasks)).toEqual([
      ['a', 'c'],
      ['b', 'c'],
    ]);
  });

  it('treats transitive dependencies as ordered', () => {
    const r = detectConflicts(
      planOf([
        { id: 'a', files_write: ['x.ts'] },
        { id: 'b', depends_on: ['a'] },
        { id: 'c', files_write: ['x.ts'], depends_on: ['b'] },
      ]),
    );
    expect(r.count).toBe(0);
  });

  it('never reports a task against itself', () => {
    const r = detectConflicts(
      planOf([
        {
          id: 'a',
          files_write: ['src/**', 'src/a.ts'],
          files_read: ['src/a.ts'],
          resources_write: ['route:/api'],
          patch_intents: [{ file: 'app.py', action: 'add_router', intent: { prefix: '/api' } }],
        },
      ]),
    );
    expect(r.count).toBe(0);
  });

  it('finds read/write and suggests that the reader waits for the writer', () => {
    const r = detectConflicts(
      planOf([
        { id: 'w', files_write: ['src/api/**'] },
        { id: 'r', files_read: ['src/api/routes.ts'] },
      ]),
    );
    expect(r.conflicts).toEqual([
      expect.objectContaining({
        type: 'file_read_write',
        target: 'src/api/routes.ts',
        tasks: ['r', 'w'],
        suggestion: 'Add dependency: r depends_on [w]',
      }),
    ]);
    // A dependency either way removes it.
    expect(
      detectConflicts(
        planOf([
          { id: 'w', files_write: ['src/api/**'] },
          { id: 'r', files_read: ['src/api/routes.ts'], depends_on: ['w'] },
        ]),
      ).count,
    ).toBe(0);
  });

  it('finds resource conflicts, explicit and implied by patch intents', () => {
    const r = detectConflicts(
      planOf([
        { id: 'a', resources_write: ['route:/users'] },
        { id: 'b', patch_intents: [{ file: 'app.py', action: 'add_router', intent: { prefix: '/users' } }] },
        {
          id: 'c',
          patch_intents: [{ file: 'deps.py', action: 'add_dependency', intent: { function_name: 'get_db' } }],
        },
        { id: 'd', resources_read: ['di:get_db'] },
        {
          id: 'e',
          patch_intents: [
            { file: 's.py', action: 'add_config', intent: { key: 'DB_URL' } },
            { file: 'm.py', action: 'add_middleware', intent: { middleware_class: 'Cors' } },
          ],
        },
        { id: 'f', resources_write: ['config:*', 'middleware:Cors'] },
      ]),
    );
    const got = r.conflicts.map((c) => `${c.type} ${c.target} ${c.tasks.join(',')}`);
    expect(got).toEqual([
      'resource config:DB_URL e,f',
      'resource middleware:Cors e,f',
      'resource route:/users a,b',
      'resource_read_write di:get_db d,c',
    ]);
  });

  it('lets several tasks append to one file, but not append while another writes', () => {
    expect(
      detectConflicts(
        planOf([
          { id: 'a', files_append: ['CHANGELOG.md'] },
          { id: 'b', files_append: ['CHANGELOG.md'] },
        ]),
      ).count,
    ).toBe(0);
    const r = detectConflicts(
      planOf([
        { id: 'a', files_append: ['CHANGELOG.md'] },
        { id: 'b', files_write: ['CHANGELOG.md'] },
      ]),
    );
    expect(r.conflicts[0]?.type).toBe('file_write_write');
  });

  it('stays fast on many disjoint paths and still finds the one overlap', () => {
    const tasks = Array.from({ length: 3000 }, (_, i) => ({
      id: `t${i}`,
      files_write: [`pkg/m${i}/a.ts`, `pkg/m${i}/b.ts`, `pkg/m${i}/sub/**`],
      files_read: [`pkg/m${(i + 1) % 3000}/types.ts`],
    }));
    tasks.push({ id: 'late', files_write: ['pkg/m17/sub/deep/x.ts'], files_read: [] });
    const r = detectConflicts(planOf(tasks));
    expect(r.conflicts.map((c) => c.tasks.join(','))).toEqual(['t17,late']);
  });
});

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OrchError,
  RESERVED_TASK_IDS,
  analyzeDag,
  findPlanFile,
  isReservedTaskId,
  loadPlan,
  parsePlan,
  type SourceIssue,
} from '../src/index.js';

function issuesOf(text: string, opts = {}): SourceIssue[] {
  try {
    parsePlan(text, 'tasks.yaml', opts);
  } catch (e) {
    expect(e).toBeInstanceOf(OrchError);
    const err = e as OrchError;
    expect(err.code).toBe('ERR_ORCH_PLAN_INVALID');
    return err.details?.issues as SourceIssue[];
  }
  throw new Error('expected the plan to be rejected');
}

const ok = (extra = ''): string =>
  `tasks:\n  - id: a\n    verification: [{command: "npm test", type: test}]\n${extra}`;

describe('parsePlan: shapes and positions', () => {
  it('parses YAML and JSON with defaults', () => {
    const y = parsePlan(ok(), 'tasks.yaml');
    expect(y.tasks[0]).toMatchObject({
      id: 'a',
      files_write: [],
      depends_on: [],
      allow_large_changes: false,
    });
    expect(y.tasks[0]?.verification[0]).toEqual({ command: 'npm test', type: 'test', required: true });
    const j = parsePlan(
      JSON.stringify({ request: 'r', tasks: [{ id: 'a', verification: [{ command: 'x' }] }] }),
      'p.json',
    );
    expect(j.request).toBe('r');
    expect(j.tasks[0]?.verification[0]?.type).toBe('check');
  });

  it('points at an unknown field with file:line:col and suggests the close name', () => {
    const text = ok('    fiels_write: [src/a.ts]\n');
    const [issue] = issuesOf(text);
    expect(issue).toEqual({
      path: 'tasks[0].fiels_write',
      line: 4,
      column: 5,
      message: 'unknown field "fiels_write" (did you mean "files_write"?)',
    });
    expect(() => parsePlan(text, 'tasks.yaml')).toThrow(
      'tasks.yaml:4:5: tasks[0].fiels_write: unknown field',
    );
  });

  it('suggests nothing for a field that is not close to any', () => {
    expect(issuesOf(ok('    zzzzzzzz: 1\n'))[0]?.message).toBe('unknown field "zzzzzzzz"');
    expect(issuesOf(`${ok()}taks: []\n`)[0]?.message).toContain('did you mean "tasks"?');
  });

  it('says what type was expected and what it got, everywhere', () => {
    const issues = issuesOf(
      'request: 5\ntasks:\n  - id: 7\n    files_write: src/a.ts\n    verification: [{command: true, type: unit, required: "yes", timeout: -1}]\n',
    );
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(byPath.request).toBe('expected string, got a number (5)');
    expect(byPath['tasks[0].id']).toBe('expected string, got a number (7)');
    expect(byPath['tasks[0].files_write']).toBe('expected a list, got a string ("src/a.ts")');
    expect(byPath['tasks[0].verification[0].command']).toContain('expected string, got a boolean');
    expect(byPath['tasks[0].verification[0].type']).toContain(
      'expected one of "test", "lint", "typecheck", "build", "check"',
    );
    expect(byPath['tasks[0].verification[0].required']).toContain('expected boolean');
    expect(byPath['tasks[0].verification[0].timeout']).toBeDefined();
    expect(issues.find((i) => i.path === 'tasks[0].id')).toMatchObject({ line: 3, column: 9 });
  });

  it('requires tasks, a mapping, and at least one task', () => {
    expect(issuesOf('request: x\n')[0]).toMatchObject({
      path: 'tasks',
      message: 'is required (expected a list)',
    });
    expect(issuesOf('- a\n- b\n')[0]?.message).toContain('expected a mapping');
    expect(issuesOf('')[0]?.message).toContain('empty document');
    expect(issuesOf('tasks: []\n')[0]?.message).toBe('needs at least 1 entry');
  });

  it('reports malformed YAML with its position', () => {
    const [issue] = issuesOf('tasks:\n  - id: a\n    files_write: [a, b\n');
    expect(issue?.line).toBeGreaterThan(0);
    expect(issuesOf('tasks: [\n')[0]?.path).toBe('(document)');
    expect(issuesOf('a: 1\na: 2\ntasks: []\n')[0]?.message).toMatch(/unique|duplicate/i);
  });
});

describe('parsePlan: rules', () => {
  it('checks ids: pattern and uniqueness', () => {
    for (const bad of ['A', '-a', 'a b', 'a/b', '../x', '', 'x'.repeat(64)]) {
      const issues = issuesOf(`tasks:\n  - id: ${JSON.stringify(bad)}\n    verification: [{command: t}]\n`);
      expect(issues[0]?.message).toContain('is not allowed');
    }
    for (const good of ['a', '0', 'a.b_c-d', 'x'.repeat(63)]) {
      expect(
        parsePlan(`tasks:\n  - id: ${JSON.stringify(good)}\n    verification: [{command: t}]\n`, 't').tasks[0]
          ?.id,
      ).toBe(good);
    }
    const dup = issuesOf(`${ok()}  - id: a\n    verification: [{command: t}]\n`);
    expect(dup[0]).toMatchObject({
      path: 'tasks[1].id',
      line: 4,
      message: 'duplicate task id "a" (first used by tasks[0])',
    });
  });

  it('normalizes paths and rejects escapes, absolute paths and .git', () => {
    const plan = parsePlan(
      ok('    files_write: ["./src//a.ts", "src/x/../b.ts", "src/lib/", "src/a.ts"]\n'),
      't',
    );
    expect(plan.tasks[0]?.files_write).toEqual(['src/a.ts', 'src/b.ts', 'src/lib/**']);
    const bad = [
      '/etc/passwd',
      '../outside',
      'src/../../x',
      '.git/config',
      'sub/.GIT/hooks/pre-commit',
      'C:\\x',
      '~/x',
      '',
      '!src/a',
    ];
    for (const p of bad) {
      const issues = issuesOf(ok(`    files_read: [${JSON.stringify(p)}]\n`));
      expect(issues[0]?.path).toBe('tasks[0].files_read[0]');
      expect(issues[0]?.message).toContain(JSON.stringify(p));
    }
    expect(issuesOf(ok('    files_append: ["../x"]\n'))[0]?.message).toContain('leaves the repository');
    expect(issuesOf(ok('    patch_intents: [{file: /abs.py, action: add_config}]\n'))[0]?.path).toBe(
      'tasks[0].patch_intents[0].file',
    );
    expect(issuesOf(`${ok()}contracts: [{name: C, version: "1", file_path: ../c.ts}]\n`)[0]?.path).toBe(
      'contracts[0].file_path',
    );
  });

  it('allows globs in files_* and resources_*', () => {
    const plan = parsePlan(
      ok('    files_write: ["src/**/*.ts", "lib/{a,b}.js"]\n    resources_write: ["route:/api/*"]\n'),
      't',
    );
    expect(plan.tasks[0]?.files_write).toEqual(['src/**/*.ts', 'lib/{a,b}.js']);
    expect(plan.tasks[0]?.resources_write).toEqual(['route:/api/*']);
  });

  it('checks depends_on: known, not itself, no duplicates', () => {
    const two = (deps: string): string =>
      `${ok()}  - id: b\n    depends_on: ${deps}\n    verification: [{command: t}]\n`;
    expect(issuesOf(two('[zz]'))[0]?.message).toBe(
      'depends on "zz", which is not a task in this plan (known ids: a, b)',
    );
    expect(issuesOf(two('[b]'))[0]?.message).toBe('task "b" depends on itself');
    expect(issuesOf(two('[a, a]'))[0]).toMatchObject({
      path: 'tasks[1].depends_on[1]',
      message: '"a" is listed twice',
    });
    // The DAG analyzer reports unknown ids itself when asked to.
    expect(parsePlan(two('[zz]'), 't', { allowUnknownDependencies: true }).tasks[1]?.depends_on).toEqual([
      'zz',
    ]);
  });

  it('requires a run script of a shell task, named by the task or by the defaults', () => {
    const shell = (extra: string): string =>
      `tasks:\n  - id: a\n    agent: shell\n${extra}    verification: [{command: t}]\n`;
    expect(issuesOf(shell(''))).toEqual([
      {
        path: 'tasks[0]',
        line: 2,
        column: 5,
        message:
          'task "a" uses the shell agent but has no run script: add `run: <commands>`, or choose another agent',
      },
    ]);
    expect(issuesOf(shell('    run: "  "\n'))[0]?.message).toContain('has no run script');
    expect(issuesOf(`defaults: {agent: shell}\n${ok()}`)[0]?.message).toContain(
      'task "a" uses the shell agent',
    );
    expect(parsePlan(shell('    run: echo hi\n'), 't').tasks[0]?.run).toBe('echo hi');
    // Another agent needs no script.
    expect(parsePlan(`defaults: {agent: claude}\n${ok()}`, 't').tasks).toHaveLength(1);
  });

  it('requires a verification with a non-empty command', () => {
    expect(issuesOf('tasks:\n  - id: a\n')[0]?.message).toContain('has no verification');
    expect(issuesOf('tasks:\n  - id: a\n    verification: []\n')[0]?.message).toContain(
      'has no verification',
    );
    expect(issuesOf('tasks:\n  - id: a\n    verification: [{command: "  "}]\n')[0]).toMatchObject({
      path: 'tasks[0].verification[0].command',
      message: 'the command must not be empty',
    });
  });

  it('rejects duplicate contract names', () => {
    const text = `${ok()}contracts:\n  - {name: C, version: "1", file_path: c.ts}\n  - {name: C, version: "2", file_path: d.ts}\n`;
    expect(issuesOf(text)[0]?.message).toContain('duplicate contract name "C"');
  });
});

describe('parsePlan: reserved names', () => {
  const task = (id: string, extra = ''): string =>
    `tasks:\n  - id: ${id}\n    verification: [{command: "npm test", type: test}]\n${extra}`;

  it('refuses every reserved task id, with the list and its position', () => {
    for (const id of RESERVED_TASK_IDS) {
      const [issue] = issuesOf(task(id));
      expect(issue).toMatchObject({ path: 'tasks[0].id', line: 2, column: 9 });
      expect(issue?.message).toContain(`task id "${id}" is reserved`);
      expect(issue?.message).toContain(
        'staging, archive, integration, tasks, work, supervisor, user, all, orch',
      );
    }
    expect(() => parsePlan(task('staging'), 'tasks.yaml')).toThrow(
      'tasks.yaml:2:9: tasks[0].id: task id "staging" is reserved',
    );
    // A name that merely contains a reserved word is an ordinary id.
    expect(parsePlan(task('staging-docs'), 'tasks.yaml').tasks[0]?.id).toBe('staging-docs');
    expect(isReservedTaskId('_pool')).toBe(true);
    expect(isReservedTaskId('Staging')).toBe(true);
    expect(isReservedTaskId('api')).toBe(false);
  });

  it("refuses writes into orch's folders and the configured worktree folder", () => {
    const issues = issuesOf(
      task(
        'a',
        '    files_write: [src/a.ts, .orchestrator/runs/x.json, ./.worktrees/b/c.ts]\n    files_append: [.Orchestrator/log]\n',
      ),
    );
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ['tasks[0].files_write[1]', 4],
      ['tasks[0].files_write[2]', 4],
      ['tasks[0].files_append[0]', 5],
    ]);
    expect(issues[0]?.message).toContain('inside .orchestrator/, which orch owns');
    expect(issues[1]?.message).toContain('inside .worktrees/');
    // Reading them is not writing; another worktree folder moves the reservation with it.
    expect(
      parsePlan(task('a', '    files_read: [.orchestrator/x]\n'), 't.yaml').tasks[0]?.files_read,
    ).toEqual(['.orchestrator/x']);
    const custom = task('a', '    files_write: [.worktrees/x.ts, wt/x.ts]\n');
    expect(issuesOf(custom, { worktreeDir: 'wt/' }).map((i) => i.path)).toEqual(['tasks[0].files_write[1]']);
    expect(parsePlan(task('a', '    files_write: [.worktrees-notes.md]\n'), 't.yaml').tasks).toHaveLength(1);
  });
});

describe('parsePlan: hostile input', () => {
  it('refuses a YAML alias bomb quickly', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'tasks: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]',
    ].join('\n');
    expect(issuesOf(bomb)[0]?.message).toContain('alias');
  });

  it('refuses binary bytes, huge text and deep nesting with an OrchError', () => {
    expect(issuesOf('tasks:\n  - id: a\u0000b\n')[0]).toMatchObject({
      line: 2,
      message: expect.stringContaining('binary'),
    });
    expect(issuesOf(`request: "${'x'.repeat(17 * 1024 * 1024)}"\n`)[0]?.message).toContain('limit');
    expect(issuesOf(`${'['.repeat(100_000)}${']'.repeat(100_000)}`).length).toBeGreaterThan(0);
    expect(issuesOf(`tasks: ${'['.repeat(20_000)}${']'.repeat(20_000)}`).length).toBeGreaterThan(0);
    expect(issuesOf(`${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`).length).toBeGreaterThan(0);
    expect(issuesOf(`${'- '.repeat(5_000)}x\n`).length).toBeGreaterThan(0);
  });

  it('property: random documents give a plan or an ERR_ORCH_PLAN_INVALID, nothing else', () => {
    const value = fc.letrec((tie) => ({
      any: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('any'), { maxLength: 4 }),
        fc.dictionary(
          fc.oneof(
            fc.constantFrom('tasks', 'id', 'files_write', 'depends_on', 'verification', 'command', 'type'),
            fc.string(),
          ),
          tie('any'),
          { maxKeys: 5 },
        ),
      ),
    })).any;
    const task = fc.record(
      {
        id: fc.oneof(fc.constantFrom('a', 'b', 'c'), fc.string()),
        files_write: fc.array(
          fc.oneof(fc.constantFrom('src/a.ts', '../x', '/abs', 'src/**', '.git/x'), fc.string()),
        ),
        depends_on: fc.array(fc.constantFrom('a', 'b', 'c', 'zz')),
        verification: fc.array(
          fc.record({ command: fc.oneof(fc.string(), value), type: fc.oneof(fc.constant('test'), value) }),
        ),
      },
      { requiredKeys: [] },
    );
    const doc = fc.oneof(value, fc.record({ tasks: fc.array(task, { maxLength: 4 }) }));
    const texts = fc.oneof(
      doc.map((d) => JSON.stringify(d) ?? 'null'),
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc
        .array(
          fc.constantFrom(
            'tasks:',
            '\n',
            '  - ',
            'id: a',
            '&x ',
            '*x',
            '[',
            ']',
            '{',
            '}',
            ': ',
            '"',
            "'",
            '#',
            '|',
            '>',
            '\t',
          ),
          { maxLength: 30 },
        )
        .map((a) => a.join('')),
    );
    fc.assert(
      fc.property(texts, (text) => {
        try {
          const plan = parsePlan(text, 'fuzz.yaml');
          return Array.isArray(plan.tasks) && plan.tasks.length > 0;
        } catch (e) {
          return (
            e instanceof OrchError && e.code === 'ERR_ORCH_PLAN_INVALID' && Array.isArray(e.details?.issues)
          );
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('loadPlan', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orch-plan-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('loads a file and returns its absolute path', async () => {
    await writeFile(join(dir, 'tasks.yaml'), ok());
    const { plan, path } = await loadPlan(join(dir, 'tasks.yaml'));
    expect(plan.tasks).toHaveLength(1);
    expect(path).toBe(join(dir, 'tasks.yaml'));
  });

  it('points dependency errors (unknown task, cycle) at their file:line:col', async () => {
    const file = join(dir, 'deps.yaml');
    const task = (id: string, deps: string): string =>
      `  - id: ${id}\n    depends_on: ${deps}\n    verification: [{command: t}]\n`;
    await writeFile(file, `tasks:\n${task('a', '[b]')}${task('b', '[zz, a]')}`);
    const unknown = await loadPlan(file, { allowUnknownDependencies: true });
    const r = analyzeDag(unknown.plan, unknown.doc);
    expect(r.issues).toEqual([
      expect.objectContaining({ path: 'tasks[1].depends_on[0]', line: 6, column: 18 }),
    ]);
    expect(r.errors).toEqual([
      `${file}:6:18: Task 'b' depends on 'zz' which does not exist. Known task IDs: ['a', 'b']`,
    ]);

    await writeFile(file, `tasks:\n${task('a', '[b]')}${task('b', '[a]')}`);
    const cyclic = await loadPlan(file);
    const c = analyzeDag(cyclic.plan, cyclic.doc);
    expect(c.cycle).toEqual(['a', 'b', 'a']);
    expect(c.errors).toEqual([`${file}:3:18: Circular dependency detected: a → b → a`]);
    // Without the source the messages stay as they were.
    expect(analyzeDag(cyclic.plan).errors).toEqual(['Circular dependency detected: a → b → a']);
  });

  it('finds a relative plan path from the working folder, else from the repository root', async () => {
    const sub = join(dir, 'deep', 'sub');
    await mkdir(sub, { recursive: true });
    await writeFile(join(dir, 'root-plan.yaml'), ok());
    expect(findPlanFile('root-plan.yaml', sub, dir)).toBe(join(dir, 'root-plan.yaml'));
    await writeFile(join(sub, 'root-plan.yaml'), ok());
    expect(findPlanFile('root-plan.yaml', sub, dir)).toBe(join(sub, 'root-plan.yaml'));
    // Found nowhere: the path from the working folder, for the not-found error.
    expect(findPlanFile('none.yaml', sub, dir)).toBe(join(sub, 'none.yaml'));
    expect(findPlanFile(join(dir, 'x.yaml'), sub, dir)).toBe(join(dir, 'x.yaml'));
  });

  it('a missing file is ERR_ORCH_PLAN_NOT_FOUND', async () => {
    await expect(loadPlan(join(dir, 'nope.yaml'))).rejects.toMatchObject({ code: 'ERR_ORCH_PLAN_NOT_FOUND' });
    await expect(loadPlan(dir)).rejects.toMatchObject({ code: 'ERR_ORCH_PLAN_NOT_FOUND' });
  });

  it('refuses a 50 MB file before reading it, and invalid UTF-8', async () => {
    const big = join(dir, 'big.yaml');
    await writeFile(big, Buffer.alloc(50 * 1024 * 1024, 0x61));
    await expect(loadPlan(big)).rejects.toMatchObject({
      code: 'ERR_ORCH_PLAN_INVALID',
      message: expect.stringContaining('limit'),
    });
    const bin = join(dir, 'bin.yaml');
    await writeFile(bin, Buffer.from([0x74, 0x61, 0xff, 0xfe, 0x00, 0x01]));
    await expect(loadPlan(bin)).rejects.toMatchObject({
      code: 'ERR_ORCH_PLAN_INVALID',
      message: expect.stringContaining('UTF-8'),
    });
  });
});

/** The reviewer's answer, the proposed tasks and the bounded diff, without a model. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Config, parsePlan } from '@orch/core';
import { boundDiff, parseReviewAnswer, validateNewTasks } from '../src/review/index.js';

describe('parseReviewAnswer', () => {
  it('reads a bare object, a fenced block, or an object inside prose', () => {
    expect(parseReviewAnswer('{"verdict":"accept"}')).toEqual({ ok: true, answer: { verdict: 'accept' } });
    expect(parseReviewAnswer('Here it is:\n```json\n{"verdict":"accept","summary":"ok"}\n```\n')).toEqual({
      ok: true,
      answer: { verdict: 'accept', summary: 'ok' },
    });
    const r = parseReviewAnswer('Verdict follows. {"verdict":"iterate","tasks":[{"id":"x"}]} Thanks.');
    expect(r).toEqual({ ok: true, answer: { verdict: 'iterate', tasks: [{ id: 'x' }] } });
  });

  it('names the problem of an unusable answer', () => {
    expect(parseReviewAnswer('')).toEqual({ ok: false, problem: 'the answer was empty' });
    expect(parseReviewAnswer('All good!')).toEqual({
      ok: false,
      problem: 'the answer contains no JSON object',
    });
    const wrong = parseReviewAnswer('{"verdict":"maybe"}');
    expect(wrong.ok).toBe(false);
    if (!wrong.ok)
      expect(wrong.problem).toMatch(/^the JSON object does not match the verdict format: verdict/);
    const empty = parseReviewAnswer('{"verdict":"iterate","tasks":[]}');
    expect(!empty.ok && empty.problem).toMatch(/at least one new task/);
  });
});

describe('validateNewTasks', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orch-review-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const plan = parsePlan(
    'request: r\ntasks:\n  - id: a\n    files_write: [src/a.ts]\n    verification: [{command: "true"}]\n',
    'tasks.yaml',
  );
  const opts = () => ({ checkout: dir, config: Config.parse({}), source: 'review iteration 1' });

  it('accepts tasks that depend on old ones and rewrite their files, and leaves the plan alone', async () => {
    const r = await validateNewTasks(
      plan,
      [{ id: 'b', files_write: ['src/a.ts'], depends_on: ['a'], verification: [{ command: 'true' }] }],
      opts(),
    );
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.tasks).toHaveLength(1);
      expect(r.tasks[0]).toMatchObject({ id: 'b', depends_on: ['a'], files_read: [] });
      expect(r.plan.tasks.map((t) => t.id)).toEqual(['a', 'b']);
    }
    expect(plan.tasks).toHaveLength(1);
  });

  it('rejects id clashes, schema errors with their position, unknown dependencies and conflicts', async () => {
    const clash = await validateNewTasks(plan, [{ id: 'a', verification: [{ command: 'true' }] }], opts());
    expect(clash).toEqual({
      ok: false,
      problem: 'task id(s) already in the plan: a; new tasks need new ids',
    });
    const schema = await validateNewTasks(plan, [{ id: 'b', files_write: 'src/b.ts', colour: 1 }], opts());
    expect(!schema.ok && schema.problem).toMatch(/ERR_ORCH_PLAN_INVALID|review iteration 1/);
    expect(!schema.ok && schema.problem).toMatch(/colour/);
    const unknown = await validateNewTasks(
      plan,
      [{ id: 'b', depends_on: ['zz'], verification: [{ command: 'true' }] }],
      opts(),
    );
    expect(!unknown.ok && unknown.problem).toMatch(/zz/);
    const t = (id: string) => ({ id, files_write: ['src/c.ts'], verification: [{ command: 'true' }] });
    const conflict = await validateNewTasks(plan, [t('b'), t('c')], opts());
    expect(!conflict.ok && conflict.problem).toMatch(/^the new tasks do not pass plan check: .*src\/c\.ts/);
  });
});

describe('boundDiff', () => {
  const file = (name: string, lines: number): string =>
    `diff --git a/${name} b/${name}\n--- a/${name}\n+++ b/${name}\n@@ -0,0 +1,${lines} @@\n` +
    Array.from({ length: lines }, (_, i) => `+line ${i}\n`).join('');

  it('keeps a small diff whole', () => {
    const patch = file('a.ts', 3) + file('b.ts', 2);
    expect(boundDiff(patch)).toEqual({ text: patch, truncated: false, cut: [] });
  });

  it('cuts one huge file at a line boundary and still shows the others', () => {
    const patch = file('big.json', 5000) + file('small.ts', 3);
    const r = boundDiff(patch, { perFile: 1000, total: 5000 });
    expect(r.truncated).toBe(true);
    expect(r.cut).toEqual(['big.json']);
    expect(r.text).toContain(file('small.ts', 3));
    expect(r.text).toMatch(/\+line \d+\n\[\.\.\. \d+ more characters of this file's diff not shown\]\n/);
    expect(r.text.length).toBeLessThan(1000 + 200 + file('small.ts', 3).length);
  });

  it('names the files left out once the total is used up', () => {
    const patch = ['a', 'b', 'c', 'd'].map((n) => file(`${n}.ts`, 40)).join('');
    const r = boundDiff(patch, { perFile: 10_000, total: file('a.ts', 40).length + 10 });
    expect(r.text.startsWith(file('a.ts', 40))).toBe(true);
    expect(r.cut).toEqual(['b.ts', 'c.ts', 'd.ts']);
    expect(r.text.slice(file('a.ts', 40).length)).toBe(
      '[diff not shown for 3 more file(s): b.ts, c.ts, d.ts; read them in the checkout]\n',
    );
  });
});

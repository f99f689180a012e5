import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseDocument } from 'yaml';
import { OrchError, parsePlan, readYamlFast, type SourceIssue } from '../src/index.js';

const issuesOf = (text: string, source = 'tasks.yaml'): SourceIssue[] => {
  try {
    parsePlan(text, source);
  } catch (e) {
    if (e instanceof OrchError) return (e.details?.issues ?? []) as SourceIssue[];
    throw e;
  }
  throw new Error('expected the plan to be invalid');
};

/** What the `yaml` library (the position-keeping reader) makes of a text, or 'error'. */
function slow(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, logLevel: 'silent' });
  return doc.errors.length > 0 ? 'error' : (doc.toJS() as unknown);
}

describe('the fast YAML reader', () => {
  it('reads a block-style plan like the yaml library does', () => {
    const text = [
      'request: "speed"',
      'tasks:',
      '  - id: a',
      '    files_write:',
      '      - src/a.ts',
      '      - "src/gen/**"',
      '    depends_on: []',
      '    timeout: 0x1F',
      '    allow_large_changes: True',
      '    verification:',
      '      - command: npm test',
      '        type: test',
      '        timeout: 1e3',
      '  - id: b',
      '    description: |',
      '      two',
      '      lines',
      '    model: ~',
      '',
    ].join('\n');
    const fast = readYamlFast(text);
    expect(fast).toBeDefined();
    expect(fast?.data).toEqual(slow(text));
  });

  it('leaves aliases, merge keys, tags, directives and complex keys to the yaml library', () => {
    for (const text of [
      'a: &x 1\nb: *x\n',
      'base: &b {x: 1}\nt:\n  <<: *b\n',
      'a: !!binary aGk=\n',
      '%YAML 1.1\n---\na: yes\n',
      '? [a, b]\n: c\n',
      '[a, b]: c\n',
      "a: 'two\nlines'\n",
    ])
      expect(readYamlFast(text)).toBeUndefined();
  });

  it('hands anything it cannot read to the yaml library', () => {
    expect(readYamlFast('a: [1, 2\n')).toBeUndefined();
    expect(readYamlFast('a: 1\na: 2\n')).toBeUndefined();
  });

  it('property: when it reads a text, it produces exactly what the yaml library produces', () => {
    // Plain scalars from characters that decide the YAML 1.2 core types (numbers, booleans, null).
    const scalar = fc
      .array(fc.constantFrom(...'0123456789.+-_eExXoOabfnNulLtTrRsSiIF~: #\'"'.split('')), {
        minLength: 1,
        maxLength: 8,
      })
      .map((cs) => cs.join(''));
    const key = fc.constantFrom('id', 'timeout', 'files_write', 'x', 'y z');
    const entry = fc.tuple(key, fc.oneof(scalar, fc.array(scalar, { maxLength: 3 })));
    const text = fc
      .array(entry, { maxLength: 6 })
      .map((entries) =>
        entries
          .map(([k, v]) =>
            Array.isArray(v) ? `${k}:\n${v.map((s) => `  - ${s}`).join('\n')}` : `${k}: ${v}`,
          )
          .join('\n'),
      );
    // Fragments of the syntax where the two readers could part ways.
    const fragments = fc
      .array(
        fc.constantFrom(
          ...['a: ', '- ', '\n', '  ', '    ', '[', ']', '{', '}', ', ', ':', '? ', '- -', 'b: c'],
          ...['"x"', "'y'", '"', "'", '"\\u00e9"', '\\', 'é', '1', '0x1', '.5', 'true', 'null', '~'],
          ...['|', '>', '|-', '>+', '#', ' #x', '\t', '\r\n', '\r', '\uFEFF', '---', '...', '%', '&', '*'],
        ),
        { maxLength: 25 },
      )
      .map((parts) => parts.join(''));
    const anyText = fc.oneof(text, fragments, fc.string());
    fc.assert(
      fc.property(anyText, (t) => {
        const fast = readYamlFast(t);
        if (fast !== undefined) expect(fast.data).toEqual(slow(t));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('parsePlan after the fast path', () => {
  it('still points at file:line:col when validation fails', () => {
    const text = [
      'tasks:',
      '  - id: a',
      '    verification: [{command: "npm test"}]',
      '  - id: b',
      '    timeout: soon',
      '    files_write: [src/ok.ts, ../outside.ts]',
      '    verification: [{command: "npm test"}]',
      '',
    ].join('\n');
    expect(issuesOf(text)).toEqual([
      expect.objectContaining({ path: 'tasks[1].timeout', line: 5, column: 14 }),
    ]);
    const paths = text.replace('timeout: soon', 'timeout: 5');
    expect(issuesOf(paths)).toEqual([
      expect.objectContaining({
        path: 'tasks[1].files_write[1]',
        line: 6,
        column: 30,
        message: expect.stringContaining('leaves the repository'),
      }),
    ]);
  });

  it('still reads plans that use anchors and aliases (through the yaml library)', () => {
    const plan = parsePlan(
      'tasks:\n  - id: a\n    verification: &v [{command: "npm test", type: test}]\n  - id: b\n    verification: *v\n',
      'tasks.yaml',
    );
    expect(plan.tasks.map((t) => t.verification[0]?.command)).toEqual(['npm test', 'npm test']);
  });

  it('treats a merge key as the unknown field it is in YAML 1.2', () => {
    const [issue] = issuesOf(
      'defaults: &d {agent: claude}\ntasks:\n  - id: a\n    <<: *d\n    verification: [{command: x}]\n',
    );
    expect(issue).toMatchObject({ path: 'tasks[0].<<', line: 4, message: expect.stringContaining('"<<"') });
  });
});

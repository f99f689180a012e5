import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseDocument } from 'yaml';
import { readYamlBlock } from '../src/plan/yaml-block.js';
import { parsePlan } from '../src/index.js';

/** What the `yaml` library (the position-keeping reader) makes of a text, or 'error'. */
function slow(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, logLevel: 'silent' });
  return doc.errors.length > 0 ? 'error' : (doc.toJS() as unknown);
}

const read = (text: string): unknown => readYamlBlock(text, 64)?.data;

describe('the line reader of block-style YAML', () => {
  it('reads a plan as the yaml library does', () => {
    const text = [
      '# a plan',
      'request: "speed"',
      'defaults:',
      '  agent: shell',
      'tasks:',
      '  - id: a',
      '    description: it\'s "quoted" inside # and a comment',
      '    files_write:',
      '      - src/a.ts',
      '      - "src/gen/**"',
      "      - 'it''s'",
      '    depends_on: []',
      '    files_read: [src/b.ts, "x y", \'z\']',
      '    timeout: 0x1F',
      '    allow_large_changes: True',
      '    model: ~',
      '    run: echo [x] {y} a:b',
      '    verification:',
      '    - command: npm test',
      '      type: test',
      '      timeout: 1e3',
      '',
      '  -   id: b',
      '      deps_required: {}',
      '      context_keys: # none yet',
      '      patch_intents:',
      '',
    ].join('\n');
    const data = read(text);
    expect(data).toBeDefined();
    expect(data).toEqual(slow(text));
  });

  it('leaves everything outside its subset to the general readers', () => {
    for (const text of [
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      'a: |\n  text\n',
      'a: >-\n  text\n',
      'a: {b: 1}\n',
      'a: [b, [c]]\n',
      'a: [b,\n  c]\n',
      "a: 'two\n  lines'\n",
      'a: plain\n  continued\n',
      'a: 1\na: 2\n',
      '"a": 1\n',
      'a b: 1\n',
      'true: 1\n',
      '__proto__: 1\n',
      'a:\tb\n',
      'a: b\r\nc: d\r\n',
      '- - a\n',
      '%YAML 1.2\n---\na: 1\n',
      '---\na: 1\n',
      'a: "\\x41"\n',
      'a: -1\n',
      'just a scalar\n',
      '# only a comment\n',
      '',
    ])
      expect(readYamlBlock(text, 64), JSON.stringify(text)).toBeUndefined();
  });

  it('gives up on documents nested deeper than it is told', () => {
    const deep = Array.from({ length: 10 }, (_, i) => `${' '.repeat(2 * i)}k:`).join('\n');
    expect(readYamlBlock(deep, 8)).toBeUndefined();
    expect(readYamlBlock(deep, 64)).toBeDefined();
  });

  it('is what parsePlan reads block-style plans with, and bad plans still point at their lines', () => {
    const text = 'tasks:\n  - id: a\n    timeout: soon\n    verification:\n      - command: npm test\n';
    expect(() => parsePlan(text, 'tasks.yaml')).toThrow(/tasks\.yaml:3:\d+: tasks\[0\]\.timeout/);
  });

  it('property: when it reads a text, it produces exactly what the yaml library produces', () => {
    // Scalars from characters that decide types, quoting, comments and mapping indicators.
    const chars = '0123456789.+-_eExXoOabfnNulLtTrRsSiIF~:# \'"\\/[]{},&*!|>%@`é';
    const plain = fc
      .array(fc.constantFrom(...chars.split('')), { minLength: 1, maxLength: 8 })
      .map((cs) => cs.join(''));
    // Mostly characters plans use, so that most texts stay within the subset.
    const tame = fc
      .tuple(
        fc.constantFrom(...'abx019.é'.split('')),
        fc.array(fc.constantFrom(...'abcxyz019._-/*é :#\'"'.split('')), { maxLength: 8 }),
      )
      .map(([c, cs]) => c + cs.join(''));
    const scalarText = fc.oneof(
      tame,
      tame,
      plain,
      plain.map((s) => JSON.stringify(s)),
      plain.map((s) => `'${s.replaceAll("'", "''")}'`),
      fc.array(plain, { maxLength: 3 }).map((xs) => `[${xs.join(', ')}]`),
      fc.constantFrom('[]', '{}', '[ ]', '"a\\"b"', '"\\u00e9"', '~', 'null', '0o17', '.5', '1e3'),
      plain.map((s) => `${s} # note`),
    );
    const key = fc.constantFrom('id', 'files_write', 'x', 'y_z', 'a-b', 'k', 'run', 'v2', 'true');
    // A random tree written as block YAML, with random indentation widths and compact lists.
    type Node = { scalar: boolean; lines: string[] };
    const tree = fc
      .letrec<{ node: Node }>((tie) => ({
        node: fc.oneof(
          { depthSize: 'small', withCrossShrink: true },
          scalarText.map((s) => ({ scalar: true, lines: [s] })),
          fc
            .array(fc.tuple(key, tie('node'), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 3 })
            .map((entries) => ({
              scalar: false,
              lines: entries.flatMap(([k, v, w]) =>
                v.scalar ? [`${k}: ${v.lines[0]}`] : [`${k}:`, ...v.lines.map((l) => `${' '.repeat(w)}${l}`)],
              ),
            })),
          fc
            .array(fc.tuple(tie('node'), fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 3 })
            .map((items) => ({
              scalar: false,
              lines: items.flatMap(([v, w]) => {
                const [first, ...more] = v.lines;
                return [`-${' '.repeat(w)}${first}`, ...more.map((l) => `${' '.repeat(w + 1)}${l}`)];
              }),
            })),
        ),
      }))
      .node.map((n) => n.lines);
    const text = fc
      .tuple(tree, fc.boolean(), fc.boolean())
      .map(([lines, blank, comment]) =>
        [...(comment ? ['# head'] : []), ...lines, ...(blank ? [''] : [])].join('\n'),
      );
    // Fragments of the syntax where the readers could part ways.
    const fragments = fc
      .array(
        fc.constantFrom(
          ...['a: ', '- ', '\n', '  ', '    ', '[', ']', '{', '}', ', ', ':', '? ', '- -', 'b: c', 'k:'],
          ...['"x"', "'y'", '"', "'", '"\\u00e9"', '\\', 'é', '1', '0x1', '.5', 'true', 'null', '~'],
          ...['|', '>', '#', ' #x', '\t', '\r\n', '---', '...', '%', '&', '*', '-1', 'a:b'],
        ),
        { maxLength: 25 },
      )
      .map((parts) => parts.join(''));
    const runs = Number(process.env.RUNS ?? 4000);
    let readCount = 0;
    fc.assert(
      fc.property(fc.oneof(text, fragments), (t) => {
        const fast = readYamlBlock(t, 64);
        if (fast === undefined) return;
        readCount++;
        expect(fast.data).toEqual(slow(t));
      }),
      { numRuns: runs },
    );
    // The comparison means something only if the reader took many of the texts.
    expect(readCount).toBeGreaterThan(runs / 20);
  });
});

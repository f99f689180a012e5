import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { readYamlBlock } from '../src/plan/yaml-block.js';

/** What the `yaml` library makes of a text. */
const slow = (text: string): unknown => parseDocument(text, { uniqueKeys: true }).toJS() as unknown;
const read = (text: string): unknown => readYamlBlock(text, 64)?.data;

describe('the line reader on the lines plans are made of', () => {
  it('reads one-line lists of plain words, typed ones included, as the yaml library does', () => {
    for (const text of [
      'depends_on: [t0]\n',
      'depends_on: [t0, t-1, a.b, _c]\n',
      'xs: [1, 2.5, true, null, 0x1F, 1e3, a1]\n',
      'xs: [a,b,  c]\n',
      'xs: [a , b]\n',
      'xs: [a, b] # note\n',
      'xs: [a, \'b\', "c"]\n',
    ]) {
      expect(read(text), JSON.stringify(text)).toBeDefined();
      expect(read(text), JSON.stringify(text)).toEqual(slow(text));
    }
  });

  it('reads double-quoted paths, with escapes and comments after them, as the yaml library does', () => {
    for (const text of [
      'p: "pkg/m1/gen/**"\n',
      'p: ""\n',
      'p: "a\\"b"\n',
      'p: "tab\\there"\n',
      'p: "\\u00e9t\\u00e9"\n',
      'p: "x" # note\n',
      'p: "x"   \n',
      '- "a"\n- "b"\n',
    ]) {
      expect(read(text), JSON.stringify(text)).toBeDefined();
      expect(read(text), JSON.stringify(text)).toEqual(slow(text));
    }
  });

  it('leaves control characters inside quotes and malformed quoted lines to the general readers', () => {
    for (const text of ['p: "a\u0001b"\n', 'p: "a\u001bb"\n', 'p: "a"b"\n', 'p: "a" b\n', 'p: "a\n'])
      expect(readYamlBlock(text, 64), JSON.stringify(text)).toBeUndefined();
  });
});

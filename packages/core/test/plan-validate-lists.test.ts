import { describe, expect, it } from 'vitest';
import { parsePlan } from '../src/index.js';

const planWith = (files: string[], resources: string[]): string =>
  JSON.stringify({
    tasks: [{ id: 'a', files_write: files, resources_write: resources, verification: [{ command: 'x' }] }],
  });

describe('the lists of a task after validation', () => {
  it('hold each normalized path once, in first-seen order, short lists and long ones alike', () => {
    for (const n of [3, 40]) {
      const files = [...Array.from({ length: n }, (_, i) => `./src/f${i % 7}.ts`), 'src//f1.ts'];
      const [task] = parsePlan(planWith(files, [' db ', 'db', 'cache']), 'p.json').tasks;
      const expected = Array.from({ length: Math.min(n, 7) }, (_, i) => `src/f${i}.ts`);
      expect(task?.files_write).toEqual(expected);
      expect(task?.resources_write).toEqual(['db', 'cache']);
    }
  });
});

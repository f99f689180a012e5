import { describe, expect, it } from 'vitest';
import { Lanes } from '../src/lock/lanes.js';

describe('lanes', () => {
  it('run at most `size` at once, the rest in arrival order, a freed lane going to the next in line', async () => {
    const lane = new Lanes(2);
    const order: string[] = [];
    const gates = new Map<string, () => void>();
    const job = (id: string): Promise<void> =>
      lane.run(async () => {
        order.push(`start ${id}`);
        await new Promise<void>((r) => gates.set(id, r));
        order.push(`end ${id}`);
      });
    const all = ['a', 'b', 'c', 'd'].map(job);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['start a', 'start b']);
    expect(lane.inUse).toBe(2);
    gates.get('b')!();
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['start a', 'start b', 'end b', 'start c']);
    gates.get('a')!();
    await new Promise((r) => setImmediate(r));
    gates.get('c')!();
    await new Promise((r) => setImmediate(r));
    gates.get('d')!();
    await Promise.all(all);
    expect(order.slice(4)).toEqual(['end a', 'start d', 'end c', 'end d']);
    expect(lane.inUse).toBe(0);
  });
});

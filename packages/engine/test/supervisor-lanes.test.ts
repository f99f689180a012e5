import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Config } from '@orch/core';
import { Lane, verifyLanes } from '../src/supervisor/lanes.js';

describe('verify lanes', () => {
  it('are the configured number, or the machine cores when unset', () => {
    expect(verifyLanes(Config.parse({ orchestration: { verify_lanes: 3 } }))).toBe(3);
    expect(verifyLanes(Config.parse({}))).toBe(Math.max(1, availableParallelism()));
  });

  it('refuses a lane count below one in the config', () => {
    expect(Config.safeParse({ orchestration: { verify_lanes: 0 } }).success).toBe(false);
  });

  it('run at most `size` at once, the rest in arrival order', async () => {
    const lane = new Lane(2);
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

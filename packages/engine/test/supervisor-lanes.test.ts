import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Config } from '@orch/core';
import { verifyLanes } from '../src/supervisor/lanes.js';

describe('verify lanes', () => {
  it('are the configured number, or the machine cores when unset', () => {
    expect(verifyLanes(Config.parse({ orchestration: { verify_lanes: 3 } }))).toBe(3);
    expect(verifyLanes(Config.parse({}))).toBe(Math.max(1, availableParallelism()));
  });

  it('refuses a lane count below one in the config', () => {
    expect(Config.safeParse({ orchestration: { verify_lanes: 0 } }).success).toBe(false);
  });
});

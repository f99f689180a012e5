import { describe, expect, it } from 'vitest';
import { AttemptJob } from '../src/attempt-job.js';

const base = '0123456789abcdef0123456789abcdef01234567';
const exec = {
  run: 'r1',
  task: 'api',
  attempt: 1,
  agent: 'shell',
  prompt: 'p',
  script: 'true',
  sealed: { h1: 'v1.box' },
  env: { ORCH_TASK: 'api' },
  sandbox: false,
};
const job = {
  run: 'r1',
  task: 'api',
  attempt: 1,
  worker: 'orch-r1__api',
  baseRef: 'orch/r1/api/work',
  base,
  branch: 'orch/r1/api/work',
  env: {},
  exec,
  longestPath: 1,
  timeoutMs: 1000,
};

describe('an attempt job as a host validates it', () => {
  it('takes an orch attempt of its own run and task, made on the host (no argv needed)', () => {
    expect(AttemptJob.parse(job).exec).toEqual(exec);
  });

  it('refuses an attempt for another task or attempt, a token sealed to no host, a sandbox, a path-like agent, or nothing to run', () => {
    const refused = [
      { ...job, exec: { ...exec, task: 'other' } },
      { ...job, exec: { ...exec, attempt: 2 } },
      { ...job, exec: { ...exec, sealed: {} } },
      { ...job, exec: { ...exec, token: 'ab'.repeat(32) } },
      { ...job, exec: { ...exec, sandbox: true } },
      { ...job, exec: { ...exec, agent: '../bin/sh' } },
      { ...job, exec: { ...exec, env: { 'BAD NAME': 'x' } } },
      { ...job, exec: { ...exec, extra: 'field' } },
      { ...job, exec: undefined, argv: [] },
    ];
    for (const j of refused) expect(AttemptJob.safeParse(j).success, JSON.stringify(j)).toBe(false);
  });
});

import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Config } from '@orch/core';
import { runPaths, taskChannelPaths } from '@orch/store';
import type { AttemptInputs } from '../src/ports/worker-runtime.js';
import { writeAttemptFiles, writeShim } from '../src/worker/attempt-files.js';
import type { ExecSpec } from '../src/worker/exec.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orch-attempt-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const inputs: AttemptInputs = {
  run: 'r1',
  task: 'api',
  attempt: 2,
  agent: 'shell',
  prompt: 'Write the API.\n',
  script: 'echo hi',
  token: 'ab'.repeat(32),
  env: { ORCH_RUN: 'r1', ORCH_TASK: 'api', ORCH_ATTEMPT: '2' },
  sandbox: false,
};

describe('an attempt made from plain inputs where it runs', () => {
  it("writes the prompt and a 0600 spec under that place's own root, with its paths and the token only there", async () => {
    const root = join(dir, 'host-root');
    const worktree = join(dir, 'work', 'api');
    const files = await writeAttemptFiles(inputs, {
      root,
      worktree,
      logFile: join(dir, 'api-2.log'),
      rawLog: join(dir, 'api-2.raw.log'),
      execPath: '/opt/node',
      orchBin: '/opt/orch/bin.js',
      env: { ORCH_ROOT: root, ORCH_WORKTREE: worktree, PATH: '/opt/shim:/usr/bin' },
      config: Config.parse({}),
      baseEnv: { HOME: '/home/h', SECRET_OF_THE_HOST: 'no' },
    });
    const channel = taskChannelPaths(runPaths(root, 'r1').dir, 'api');
    expect(files.specFile).toBe(channel.spec(2));
    expect(files.argv).toEqual(['/opt/node', '/opt/orch/bin.js', '_exec', channel.spec(2)]);
    // The session's own environment names the place's root and holds no secret.
    expect(files.env).toEqual({ ORCH_ROOT: root });
    expect(await readFile(files.promptFile, 'utf8')).toBe('Write the API.\n');
    expect((await stat(files.specFile)).mode & 0o777).toBe(0o600);
    const spec = JSON.parse(await readFile(files.specFile, 'utf8')) as ExecSpec;
    expect(spec).toMatchObject({ run: 'r1', task: 'api', attempt: 2, agent: 'shell', token: inputs.token });
    expect(spec.argv).toEqual(['bash', '-c', 'echo hi']);
    expect(spec.env).toMatchObject({
      ORCH_ROOT: root,
      ORCH_WORKTREE: worktree,
      ORCH_TASK: 'api',
      HOME: '/home/h',
    });
    // Filtered like every agent's environment: what the place's process has is not passed on wholesale.
    expect(spec.env.SECRET_OF_THE_HOST).toBeUndefined();
    expect(spec.env.ORCH_TASK_TOKEN).toBeUndefined();
    expect(spec.sandbox).toBeUndefined();
    // The token is in the spec file only: not in the prompt, not on the session's command line.
    expect(files.argv.join(' ')).not.toContain(inputs.token);
    expect(await readFile(files.promptFile, 'utf8')).not.toContain(inputs.token);
  });
});

describe("the workers' orch shim", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orch-shim-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is executable as soon as it is in place, and a shim left without its mode is repaired', async () => {
    await writeShim(dir, '/usr/bin/node', '/opt/orch/bin.js');
    const shim = join(dir, 'orch');
    expect((await stat(shim)).mode & 0o100).toBe(0o100);
    expect(await readFile(shim, 'utf8')).toContain('"/opt/orch/bin.js" "$@"');
    // What a supervisor killed between a write and a chmod used to leave behind.
    await chmod(shim, 0o644);
    await writeShim(dir, '/usr/bin/node', '/opt/orch/bin.js');
    expect((await stat(shim)).mode & 0o100).toBe(0o100);
  });
});

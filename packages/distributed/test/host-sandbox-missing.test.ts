/**
 * A host whose bubblewrap does not work (its probe says so): the run's `workers.sandbox: on` is an
 * attempt error naming the host, `auto` a notice for the worker's log, `off` nothing at all.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Config } from '@orch/core';
import { hostSandbox, type HostSandboxPlace } from '../src/host-sandbox.js';

const place: HostSandboxPlace = {
  host: 'h7',
  workdir: '/srv/orch-host',
  clone: '/srv/orch-host/repo.git',
  root: '/srv/orch-host/root',
  shimDir: '/srv/orch-host/bin',
  run: 'r1',
  task: 'a',
  worktree: join('/srv/orch-host', 'work', 'r1', 'a'),
  runtimeHidden: [],
  env: {},
};
const noBwrap = async () => ({
  ok: false,
  reason: 'bwrap is not installed (Debian/Ubuntu: apt install bubblewrap)',
});
const mode = (sandbox: string) => Config.parse({ workers: { sandbox } });

describe('a host without a working bubblewrap', () => {
  it('refuses an attempt of a run that asks for the sandbox, naming the host; auto runs it unconfined with a notice', async () => {
    await expect(hostSandbox(mode('on'), place, 'shell', noBwrap)).rejects.toMatchObject({
      code: 'ERR_ORCH_SANDBOX_UNAVAILABLE',
      message: expect.stringMatching(/^host h7: workers\.sandbox is on, but bwrap is not installed/),
    });
    expect(await hostSandbox(mode('auto'), place, 'shell', noBwrap)).toEqual({
      on: false,
      notice: expect.stringMatching(/^host h7: workers run without an OS sandbox: bwrap is not installed/),
    });
    expect(await hostSandbox(mode('off'), place, 'shell', noBwrap)).toEqual({ on: false });
  });
});

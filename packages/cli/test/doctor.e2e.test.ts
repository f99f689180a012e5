/**
 * `orch doctor` through the built binary. The sandbox probe looks for bubblewrap on the PATH of the
 * process itself (and keeps the answer), so only a process of its own can be shown a PATH without it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '@orch/engine';
import { orchBin, tempRepo, type TempRepo } from '@orch/test-utils';
import { binDir } from './doctor-fixture.js';

let scratch: string;
let repo: TempRepo;
let withoutTmux: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'orch-doctor-'));
  repo = await tempRepo();
  withoutTmux = await binDir(scratch, 'without-tmux', ['git', 'sh']);
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
  await repo.cleanup();
});

function doctor(cwd: string, args: string[]) {
  return execa(process.execPath, [orchBin(), 'doctor', ...args], {
    cwd,
    env: { PATH: withoutTmux, HOME: scratch },
    extendEnv: false,
    reject: false,
  });
}

describe('orch doctor (the binary)', () => {
  it('warns without bubblewrap, and fails when workers.sandbox is on', async () => {
    const auto = JSON.parse((await doctor(repo.root, ['--json'])).stdout) as DoctorReport;
    expect(auto.checks.find((c) => c.name === 'sandbox')).toMatchObject({
      status: 'warn',
      required: false,
      detail: expect.stringContaining('bwrap is not installed'),
    });
    const strict = await tempRepo({ '.claude-agents.yaml': 'workers:\n  sandbox: "on"\n' });
    try {
      const r = await doctor(strict.root, ['--json']);
      expect(r.exitCode).toBe(1);
      const report = JSON.parse(r.stdout) as DoctorReport;
      expect(report.checks.find((c) => c.name === 'sandbox')).toMatchObject({
        status: 'fail',
        required: true,
        hint: expect.stringContaining('bubblewrap'),
      });
    } finally {
      await strict.cleanup();
    }
  });
});

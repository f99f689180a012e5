/**
 * `orch demo` on a terminal: the live dashboard's run, a file of its own so it runs beside the
 * run without a terminal (demo.e2e.test.ts).
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isolatedTmux, orchBin, tmuxFixture } from '@orch/test-utils';

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'orch-demo-test-'));
});
afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('orch demo', () => {
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;
  beforeEach(async () => {
    tmux = await isolatedTmux();
  });
  afterEach(async () => {
    await tmux.cleanup();
  });

  it('shows the live dashboard on a terminal, closes it at the end, and removes its temporary folder', async () => {
    const fixture = await tmuxFixture({ env: tmux.env });
    const temp = join(scratch, 'tmp');
    await mkdir(temp);
    try {
      await fixture.server.newSession({
        name: 'demo',
        cwd: scratch,
        argv: [process.execPath, orchBin(), 'demo'],
        env: { TMPDIR: temp, NO_COLOR: '1' },
        width: 150,
        height: 60,
      });
      const end = await fixture.server.waitForExit('demo', { timeoutMs: 170_000 });
      const screen = await fixture.server.capture('demo', { lines: 60 });
      expect(end.timedOut).toBe(false);
      expect(end.exitStatus).toBe(0);
      // The dashboard's final frame stays on screen after the alternate screen is gone.
      expect(screen).toMatch(/toc\s+✓ merged #2/);
      expect(screen).toMatch(/✓ 7 merged/);
      expect(screen).toMatch(/Demo run \S+ succeeded/);
      expect(screen).toMatch(/removed \S*orch-demo-/);
      expect(await readdir(temp)).toEqual([]);
    } finally {
      await fixture.cleanup();
    }
  }, 180_000);
});

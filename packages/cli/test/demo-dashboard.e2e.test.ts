/**
 * `orch demo` on a terminal: the live dashboard's run, a file of its own so it runs beside the
 * run without a terminal (demo.e2e.test.ts).
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { orchBin, tmuxFixture } from '@orch/test-utils';
import { demoEach } from './demo-fixture.js';

describe('orch demo', () => {
  const w = demoEach();

  it('shows the live dashboard on a terminal, closes it at the end, and removes its temporary folder', async () => {
    const fixture = await tmuxFixture({ env: w.env });
    const temp = join(w.scratch, 'tmp');
    await mkdir(temp);
    try {
      await fixture.server.newSession({
        name: 'demo',
        cwd: w.scratch,
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

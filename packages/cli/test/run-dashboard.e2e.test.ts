import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TmuxServer } from '@orch/tmux';
import { isolatedTmux, orchBin, tempRepo, type TempRepo } from '@orch/test-utils';

function task(id: string, deps: string[]): string {
  return `
  - id: ${id}
    agent: shell
    files_write: [${id}.txt]
    depends_on: [${deps.join(', ')}]
    verification: [{ command: "test -s ${id}.txt" }]
    run: |
      orch task progress "working on ${id}"
      sleep 1
      echo ${id} > ${id}.txt && git add -A && git commit -qm ${id} && orch task done --summary "${id} written"`;
}

const IDS = ['alpha', 'bravo', 'charlie', 'delta'];
const PLAN = `request: four tasks watched live
tasks:${task('alpha', [])}${task('bravo', [])}${task('charlie', ['alpha'])}${task('delta', ['bravo', 'charlie'])}
`;

describe('orch run in a terminal shows the live dashboard', () => {
  let repo: TempRepo;
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;
  let term: TmuxServer;

  beforeEach(async () => {
    repo = await tempRepo({ 'tasks.yaml': PLAN });
    tmux = await isolatedTmux();
    // A terminal for the test itself: its own server beside orch's, in the same private TMUX_TMPDIR.
    term = new TmuxServer({ socket: `orch-term-${randomBytes(4).toString('hex')}`, env: tmux.env });
  });
  afterEach(async () => {
    await term.killServer();
    await tmux.cleanup();
    await repo.cleanup();
  });

  it('every task row reaches merged on screen, read with capture-pane', async () => {
    await term.newSession({
      name: 'view',
      cwd: repo.root,
      argv: [process.execPath, orchBin(), 'run', 'tasks.yaml', '--yes'],
      env: { ...tmux.env, NO_COLOR: '1', ORCH_DEBUG: '1' },
      width: 160,
      height: 40,
      logFile: join(repo.root, '.git', 'view.log'),
    });
    const seen = new Map<string, Set<string>>(IDS.map((id) => [id, new Set<string>()]));
    let header = '';
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const screen = await term.capture('view').catch(() => '');
      if (/orch run \S+\s+base main/.test(screen) && /q quit/.test(screen)) header = screen;
      for (const line of screen.split('\n')) {
        const m =
          /^\s*[›>]?\s*(alpha|bravo|charlie|delta)\s+\S\s+(pending|ready|running|verifying|merging|merged)/.exec(
            line,
          );
        if (m) seen.get(m[1]!)!.add(m[2]!);
      }
      if (IDS.every((id) => seen.get(id)!.has('merged'))) break;
      const pane = await term.paneState('view');
      if (pane.dead) break;
      await new Promise((r) => setTimeout(r, 150));
    }
    // The live view showed the dashboard's header and key help, the work moving, and every task merged.
    expect(header).not.toBe('');
    for (const id of IDS) expect([...seen.get(id)!]).toContain('merged');
    expect(IDS.some((id) => seen.get(id)!.has('running'))).toBe(true);
    // After the run the dashboard closes by itself and the summary is printed.
    const end = Date.now() + 60_000;
    while (Date.now() < end && !(await term.paneState('view')).dead)
      await new Promise((r) => setTimeout(r, 200));
    const pane = await term.paneState('view');
    expect(pane.dead).toBe(true);
    expect(pane.exitStatus).toBe(0);
    // The alternate screen is gone; the summary printed after it is in the pane's output.
    expect(await readFile(join(repo.root, '.git', 'view.log'), 'utf8')).toMatch(/Run \S+ succeeded/);
    expect(await repo.git('log', '--format=%s', '-1', 'main')).toMatch(/^delta: /);
  });
});

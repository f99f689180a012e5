import type { TaskState } from '@orch/core';
import { afterEach, describe, expect, it } from 'vitest';
import { DashboardApp } from '../src/app.js';
import type { PaneSource } from '../src/source.js';
import { DashboardStore } from '../src/state/store.js';
import { KEYS, cleanup, render, update } from './harness.js';
import { T0, at, ev, sampleRun, started, startTask } from './events.js';

const clock = (): number => T0 + 100_000;
/** A short redraw throttle for tests that wait for a journal-driven redraw but are not about the throttle. */
const REDRAW_MS = 50;

function sampleStore(): DashboardStore {
  const store = new DashboardStore({
    readers: {
      readLogTail: (task, lines) =>
        Promise.resolve([`${task} log a`, `${task} log b`, `${task} log c`].slice(-lines)),
      readVerification: (task) =>
        Promise.resolve(task === 'ui' ? ['boundaries: ok', 'npm test: passed'] : undefined),
      readMailbox: (task) =>
        Promise.resolve(task === 'api' ? [{ from: 'ui', text: 'use /v2/login please' }] : []),
    },
  });
  store.apply(sampleRun());
  return store;
}

const panes: PaneSource = {
  capture: (t: TaskState, lines: number) =>
    Promise.resolve(Array.from({ length: 30 }, (_, i) => `${t.id} out ${i}`).slice(-lines)),
};

/** The table row of `id` in a frame. */
function row(frame: string, id: string): string {
  return frame.split('\n').find((l) => l.startsWith(`› ${id} `) || l.startsWith(`  ${id} `)) ?? '';
}

afterEach(() => cleanup());

describe('dashboard view', () => {
  it('shows header, rows with status glyphs and context, footer and key help', async () => {
    const r = await render(<DashboardApp source={sampleStore()} clock={clock} />);
    const f = r.lastFrame();
    expect(f).toContain('run r-2025  base main  staging orch/r-2025/staging @ cccccccccc');
    expect(f).toContain('request Add a login page with tests');
    expect(row(f, 'api')).toMatch(
      /▶ running\s+claude\/sonnet\s+45\.2k\/200k \(23%\)\s+\$0\.43\s+1m35s Editing src\/api\.ts/,
    );
    expect(row(f, 'ui')).toContain('✓ merged');
    expect(row(f, 'docs')).toMatch(/· pending.*after api/);
    expect(f).toContain('phase running');
    expect(f).toContain('▶ 1 running  · 1 pending  ✓ 1 merged');
    expect(f).toContain('↑/↓ select · enter details · w workers · q quit');
  });

  it('moves the selection with the arrow keys and stays inside the rows', async () => {
    const r = await render(<DashboardApp source={sampleStore()} clock={clock} />);
    expect(row(r.lastFrame(), 'api')).toMatch(/^› api/);
    await r.press(KEYS.down);
    expect(row(r.lastFrame(), 'ui')).toMatch(/^› ui/);
    expect(row(r.lastFrame(), 'api')).toMatch(/^ {2}api/);
    await r.press(KEYS.down);
    await r.press(KEYS.down);
    expect(row(r.lastFrame(), 'docs')).toMatch(/^› docs/);
    await r.press(KEYS.up);
    expect(row(r.lastFrame(), 'ui')).toMatch(/^› ui/);
  });

  it('enter opens the selected task with its log, verification and mailbox; escape goes back', async () => {
    const r = await render(<DashboardApp source={sampleStore()} clock={clock} />);
    await r.press(KEYS.enter);
    let f = await r.waitForFrame((x) => x.includes('api log c'));
    expect(f).toMatch(/^api {2}▶ running {2}1m35s/);
    expect(f).toContain('api log a');
    expect(f).toContain('(not verified yet)');
    expect(f).toContain('ui: use /v2/login please');
    expect(f).toMatch(/context\s+45\.2k\/200k \(23%\)/);
    await r.press(KEYS.escape);
    expect(r.lastFrame()).toContain('LAST MESSAGE');
    await r.press(KEYS.down);
    await r.press(KEYS.enter);
    f = await r.waitForFrame((x) => x.includes('ui log c'));
    expect(f).toContain('npm test: passed');
    expect(f).toContain('(no messages)');
  });

  it('w switches to the workers grid and back', async () => {
    const r = await render(<DashboardApp source={sampleStore()} panes={panes} clock={clock} />, {
      columns: 100,
      rows: 30,
    });
    await r.press('w');
    const f = await r.waitForFrame((x) => x.includes('api out 29'));
    expect(f).toContain('orch workers run r-2025  1 live');
    expect(f).toMatch(/api {2}▶ running {2}1m35s/);
    expect(f).toMatch(/✓ ui\s+merged\s+45s/);
    expect(f).toContain('1 task(s) waiting on dependencies');
    await r.press('w');
    expect(r.lastFrame()).toContain('LAST MESSAGE');
  });

  it('q quits, and so does Ctrl-C', async () => {
    const a = await render(<DashboardApp source={sampleStore()} clock={clock} />);
    await a.press('q');
    expect(a.exited()).toBe(true);
    const b = await render(<DashboardApp source={sampleStore()} clock={clock} />);
    await b.press(KEYS.ctrlC);
    expect(b.exited()).toBe(true);
  });

  it('redraws when new events reach the store', async () => {
    const store = sampleStore();
    const r = await render(<DashboardApp source={store} clock={clock} />);
    await update(() =>
      store.apply([
        ev(60, { type: 'task.progress', task: 'api', message: 'running the tests' }),
        ev(61, {
          type: 'task.activity',
          task: 'api',
          usage: { contextTokens: 150_000, contextWindow: 200_000 },
        }),
      ]),
    );
    const f = await r.waitForFrame((x) => x.includes('running the tests'));
    expect(row(f, 'api')).toContain('150k/200k (75%)');
    await update(() =>
      store.apply([
        ev(62, { type: 'task.verifying', task: 'api' }),
        ev(63, {
          type: 'task.merged',
          task: 'api',
          commit: 'e'.repeat(40),
          stagingBefore: 'c'.repeat(40),
          evidence: { source: 'merge', at: at(63) },
        }),
      ]),
    );
    const g = await r.waitForFrame((x) => row(x, 'api').includes('✓ merged'));
    expect(g).toContain('@ eeeeeeeeee');
    expect(g).toContain('· 1 pending  ✓ 2 merged');
  });

  it('coalesces a burst of journal changes into at most two redraws', async () => {
    const store = sampleStore();
    const r = await render(<DashboardApp source={store} clock={clock} redrawMs={300} />);
    const before = r.frameCount();
    await update(() => {
      for (let i = 0; i < 20; i += 1)
        store.apply([ev(60 + i, { type: 'task.progress', task: 'api', message: `step ${i}` })]);
    });
    await r.waitForFrame((x) => x.includes('step 19'));
    expect(r.frameCount() - before).toBeLessThanOrEqual(2);
  });

  it('waits for run.started, then shows the run', async () => {
    const store = new DashboardStore();
    const r = await render(<DashboardApp source={store} clock={clock} redrawMs={REDRAW_MS} />);
    expect(r.lastFrame()).toContain('Waiting for the run to start');
    await update(() => store.apply(sampleRun()));
    await r.waitForFrame((x) => x.includes('LAST MESSAGE'));
  });

  it('does not redraw a finished run on its own', async () => {
    const store = sampleStore();
    await update(() => store.apply([ev(90, { type: 'run.finished', outcome: 'failed', reason: 'stopped' })]));
    // A short tick, waited several times over: a finished run must not redraw on any of them.
    const r = await render(<DashboardApp source={store} redrawMs={REDRAW_MS} />);
    const frames = r.frameCount();
    await new Promise((res) => setTimeout(res, REDRAW_MS * 8));
    expect(r.frameCount()).toBe(frames);
  });

  it('ticks the elapsed time while a task runs', async () => {
    let now = T0 + 100_000;
    const r = await render(<DashboardApp source={sampleStore()} clock={() => now} />);
    expect(row(r.lastFrame(), 'api')).toContain('1m35s');
    now += 5000;
    await r.waitForFrame((x) => row(x, 'api').includes('1m40s'));
  });

  it('scrolls a long table to keep the selection visible', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    const store = new DashboardStore();
    await update(() => store.apply([started(ids)]));
    const r = await render(<DashboardApp source={store} clock={clock} />, { columns: 100, rows: 20 });
    expect(r.lastFrame()).toContain('rows 1-11 of 30');
    for (let i = 0; i < 29; i += 1) await r.press(KEYS.down);
    const f = r.lastFrame();
    expect(row(f, 't29')).toMatch(/^› t29/);
    expect(f).toContain('rows 20-30 of 30');
    expect(f.split('\n').length).toBeLessThan(20);
  });
});

describe('workers view', () => {
  it('lays out one panel per running worker following the terminal size', async () => {
    const store = sampleStore();
    await update(() => store.apply([ev(70, { type: 'task.ready', task: 'docs' }), startTask(71, 'docs')]));
    const r = await render(<DashboardApp source={store} panes={panes} view="workers" clock={clock} />, {
      columns: 100,
      rows: 30,
    });
    let f = await r.waitForFrame((x) => x.includes('docs out 29'));
    // side by side: both titles on one line
    expect(f.split('\n').some((l) => l.includes('api  ▶') && l.includes('docs  ▶'))).toBe(true);
    await r.resize(60, 30);
    f = r.lastFrame();
    // stacked: the titles are on different lines
    expect(f.split('\n').some((l) => l.includes('api  ▶') && l.includes('docs  ▶'))).toBe(false);
    expect(f).toContain('api  ▶');
    expect(f).toContain('docs  ▶');
    for (const l of f.split('\n')) expect(Array.from(l).length).toBeLessThanOrEqual(60);
  });

  it('collapses a worker to one line when it finishes; escape goes to the dashboard', async () => {
    const store = sampleStore();
    const r = await render(
      <DashboardApp source={store} panes={panes} view="workers" clock={clock} redrawMs={REDRAW_MS} />,
    );
    await r.waitForFrame((x) => x.includes('api out 29'));
    await update(() =>
      store.apply([
        ev(80, {
          type: 'task.failed',
          task: 'api',
          category: 'test_failed',
          reason: 'npm test failed',
          final: true,
          evidence: { source: 'verification', at: at(80) },
        }),
      ]),
    );
    const f = await r.waitForFrame((x) => x.includes('no running workers'));
    expect(f).toMatch(/✗ api\s+failed\s+1m15s\s+test_failed: npm test failed/);
    expect(f).not.toContain('api out');
    await r.press(KEYS.escape);
    expect(r.lastFrame()).toContain('LAST MESSAGE');
  });
});

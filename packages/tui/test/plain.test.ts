import { describe, expect, it } from 'vitest';
import { renderPlainDashboard, renderPlainWorkers } from '../src/plain.js';
import { DashboardStore } from '../src/state/store.js';
import { T0, ev, sampleRun } from './events.js';

const NOW = T0 + 100_000;

function state() {
  const store = new DashboardStore();
  store.apply(sampleRun());
  return store.getState()!;
}

describe('plain dashboard frame (--once)', () => {
  it('prints header, one row per task and the footer, without colour by default', () => {
    const text = renderPlainDashboard(state(), { now: NOW, width: 120 });
    expect(text.includes('\u001b')).toBe(false);
    const lines = text.split('\n');
    expect(lines[0]).toBe('orch run r-2025  base main  staging orch/r-2025/staging @ cccccccccc');
    expect(lines[1]).toBe('request Add a login page with tests');
    expect(lines[3]).toMatch(/^\s+TASK\s+STATUS\s+AGENT\s+CONTEXT\s+COST\s+ELAPSED\s+LAST MESSAGE$/);
    expect(lines[4]).toMatch(
      /^\s+api\s+▶ running\s+claude\/sonnet\s+45\.2k\/200k \(23%\)\s+\$0\.43\s+1m35s Editing src\/api\.ts$/,
    );
    expect(lines[5]).toMatch(/^\s+ui\s+✓ merged\s+claude\/sonnet\s+-\s+-\s+45s$/);
    expect(lines[6]).toMatch(/^\s+docs\s+· pending\s+claude\/sonnet\s+-\s+-\s+-\s+after api$/);
    expect(text).toContain('phase running  elapsed 1m40s  tokens 1k in / 2k out  cost $0.43');
    expect(text).toContain('▶ 1 running  · 1 pending  ✓ 1 merged');
    // no key help in a plain frame: nothing to press
    expect(text).not.toContain('q quit');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(120);
  });

  it('keeps every line inside a narrow width by dropping columns', () => {
    const text = renderPlainDashboard(state(), { now: NOW, width: 50 });
    for (const l of text.split('\n').slice(2, 7)) expect(Array.from(l).length).toBeLessThanOrEqual(50);
    expect(text).not.toContain('AGENT');
    expect(text).toContain('▶ running');
  });

  it('colours statuses when asked', () => {
    const text = renderPlainDashboard(state(), { now: NOW, color: true });
    expect(text).toContain('\u001b[32m✓ merged');
    expect(text).toContain('\u001b[36m▶ running');
  });

  it('strips escape sequences from agent messages', () => {
    const s = state();
    const store = new DashboardStore({ state: s });
    store.apply([
      ev(99, { type: 'task.progress', task: 'api', message: 'evil\u001b[2J\u001b]0;x\u0007 text' }),
    ]);
    const text = renderPlainDashboard(store.getState()!, { now: NOW });
    expect(text.includes('\u001b') || text.includes('\u0007')).toBe(false);
  });
});

describe('plain workers frame', () => {
  it('shows a titled block per live worker and one line per finished worker', () => {
    const panes = new Map([['api', ['line 1', 'line 2', '\u001b[31mline 3\u001b[0m']]]);
    const text = renderPlainWorkers(state(), panes, { now: NOW, width: 80, lines: 2 });
    const lines = text.split('\n');
    expect(lines[0]).toBe('orch workers run r-2025');
    expect(lines[1]).toMatch(/^── api ▶ running 1m35s ─+$/);
    expect(lines[2]).toBe('  line 2');
    expect(lines[3]).toBe('  line 3');
    expect(text).toMatch(/\nui\s+✓ merged\s+45s\n/);
    // docs depends on api: it waits on a dependency, not for a worker.
    expect(text).toContain('1 task(s) waiting on dependencies');
    expect(text).not.toContain('waiting for a worker');
  });

  it('counts a ready task as waiting for a worker, apart from those waiting on dependencies', () => {
    const store = new DashboardStore();
    store.apply([...sampleRun(), ev(60, { type: 'task.ready', task: 'docs' })]);
    const text = renderPlainWorkers(store.getState()!, new Map(), { now: NOW, width: 80 });
    expect(text).toContain('1 task(s) waiting for a worker');
    expect(text).not.toContain('waiting on dependencies');
  });

  it("shows a worker's latest progress message, never orch's acknowledgements", () => {
    const store = new DashboardStore();
    store.apply([
      ...sampleRun(),
      ev(60, { type: 'task.progress', task: 'api', message: 'half the endpoints done' }),
    ]);
    const panes = new Map([['api', ['compiling', 'recorded progress for task api (run r-2025)']]]);
    const text = renderPlainWorkers(store.getState()!, panes, { now: NOW, width: 80, lines: 5 });
    expect(text).toContain('  compiling\n  › half the endpoints done\n');
    expect(text).not.toContain('recorded progress');
    // A message the output already shows is not repeated.
    const said = new Map([['api', ['half the endpoints done']]]);
    const again = renderPlainWorkers(store.getState()!, said, { now: NOW, width: 80, lines: 5 });
    expect(again.match(/half the endpoints done/g)).toHaveLength(1);
  });
});

import type { RunEvent } from '@orch/core';
import { describe, expect, it, vi } from 'vitest';
import { DashboardStore } from '../src/state/store.js';
import { isTicking, selectFooter, selectHeader, selectRows } from '../src/state/selectors.js';
import { initialUi, keyToAction, uiReducer } from '../src/state/ui.js';
import { gridLayout, selectWorkers } from '../src/state/workers.js';
import { T0, at, ev, sampleRun, startTask } from './events.js';

const NOW = T0 + 100_000;

describe('DashboardStore', () => {
  it('applies a batch of events and notifies each subscriber once', () => {
    const store = new DashboardStore();
    const listener = vi.fn();
    const off = store.subscribe(listener);
    store.apply(sampleRun());
    expect(listener).toHaveBeenCalledTimes(1);
    expect(store.getState()?.tasks.api?.status).toBe('running');
    store.apply([]);
    expect(listener).toHaveBeenCalledTimes(1);
    off();
    store.apply([ev(60, { type: 'task.progress', task: 'api', message: 'tests pass' })]);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(store.getState()?.tasks.api?.lastMessage).toBe('tests pass');
  });

  it('reacts to new events: rows, counts and totals follow the journal', () => {
    const store = new DashboardStore();
    store.apply(sampleRun());
    const before = selectRows(store.getState()!, NOW);
    expect(before.map((r) => [r.id, r.status])).toEqual([
      ['api', 'running'],
      ['ui', 'merged'],
      ['docs', 'pending'],
    ]);
    const more: RunEvent[] = [
      ev(60, { type: 'task.verifying', task: 'api' }),
      ev(61, { type: 'task.merging', task: 'api' }),
      ev(62, {
        type: 'task.merged',
        task: 'api',
        commit: 'd'.repeat(40),
        stagingBefore: 'c'.repeat(40),
        evidence: { source: 'merge', at: at(62) },
      }),
      ev(63, { type: 'task.ready', task: 'docs' }),
      startTask(64, 'docs'),
      ev(70, { type: 'task.activity', task: 'docs', usage: { costUsd: 0.1, inputTokens: 500 } }),
    ];
    store.apply(more);
    const s = store.getState()!;
    expect(selectRows(s, NOW).map((r) => r.status)).toEqual(['merged', 'merged', 'running']);
    expect(selectHeader(s).stagingCommit).toBe('dddddddddd');
    const f = selectFooter(s, NOW);
    expect(f.counts).toEqual([
      { status: 'running', count: 1 },
      { status: 'merged', count: 2 },
    ]);
    expect(f.cost).toBe('$0.53');
    expect(f.inputTokens).toBe('1.5k');
  });

  it('replace() swaps in a state reduced elsewhere', () => {
    const a = new DashboardStore();
    a.apply(sampleRun());
    const b = new DashboardStore();
    const listener = vi.fn();
    b.subscribe(listener);
    b.replace(a.getState());
    expect(listener).toHaveBeenCalledOnce();
    expect(b.getState()?.run).toBe('r-2025');
  });
});

describe('selectors', () => {
  it('builds rows with glyph, agent/model, context, cost, elapsed and message', () => {
    const store = new DashboardStore();
    store.apply(sampleRun());
    const [api, ui, docs] = selectRows(store.getState()!, NOW);
    expect(api).toMatchObject({
      glyph: '▶',
      color: 'cyan',
      statusText: 'running',
      agent: 'claude/sonnet',
      context: '45.2k/200k (23%)',
      cost: '$0.43',
      elapsed: '1m35s',
      message: 'Editing src/api.ts',
    });
    expect(ui).toMatchObject({ glyph: '✓', color: 'green', elapsed: '45s', context: '-' });
    expect(docs).toMatchObject({ glyph: '·', elapsed: '-', message: 'after api' });
  });

  it('shows what a blocked or waiting-for-a-person task needs, until it moves on', () => {
    const store = new DashboardStore();
    store.apply([
      ...sampleRun(),
      ev(60, { type: 'task.blocked', task: 'api', reason: 'waiting for ui', needs: 'ui merged' }),
    ]);
    expect(selectRows(store.getState()!, NOW)[0]?.message).toBe('waiting for ui (needs ui merged)');
    store.apply([ev(61, { type: 'task.attention', task: 'api', reason: 'which auth provider?' })]);
    expect(selectRows(store.getState()!, NOW)[0]).toMatchObject({
      attention: true,
      message: 'needs a decision: which auth provider?',
    });
    store.apply([
      ev(62, { type: 'task.unblocked', task: 'api', reason: 'decided' }),
      ev(63, { type: 'task.progress', task: 'api', message: 'using sessions' }),
    ]);
    expect(selectRows(store.getState()!, NOW)[0]).toMatchObject({
      attention: false,
      message: 'using sessions',
    });
  });

  it('shows the attempt number from the second attempt on', () => {
    const store = new DashboardStore();
    store.apply([
      ...sampleRun(),
      ev(60, { type: 'task.retry', task: 'api', attempt: 2, reason: 'tests' }),
      startTask(61, 'api', 2),
    ]);
    expect(selectRows(store.getState()!, NOW)[0]?.statusText).toBe('running #2');
  });

  it('ticks only while a task is active and the run goes on', () => {
    const store = new DashboardStore();
    expect(isTicking(store.getState())).toBe(false);
    store.apply(sampleRun());
    expect(isTicking(store.getState())).toBe(true);
    store.apply([ev(90, { type: 'supervisor.stopped', pid: 42, reason: 'killed' })]);
    expect(isTicking(store.getState())).toBe(false);
    expect(selectFooter(store.getState()!, NOW)).toMatchObject({ interrupted: true, elapsed: '1m30s' });
  });
});

describe('ui reducer and keys', () => {
  it('moves the selection inside the rows and switches views', () => {
    let s = initialUi();
    s = uiReducer(s, { type: 'up' }, 3);
    expect(s.selected).toBe(0);
    s = uiReducer(uiReducer(uiReducer(s, { type: 'down' }, 3), { type: 'down' }, 3), { type: 'down' }, 3);
    expect(s.selected).toBe(2);
    s = uiReducer(s, { type: 'open' }, 3);
    expect(s.view).toBe('detail');
    s = uiReducer(s, { type: 'down' }, 3);
    expect(s.selected).toBe(2);
    s = uiReducer(s, { type: 'workers' }, 3);
    expect(s.view).toBe('workers');
    s = uiReducer(s, { type: 'back' }, 3);
    expect(s.view).toBe('detail');
    s = uiReducer(s, { type: 'back' }, 3);
    expect(s.view).toBe('dashboard');
    expect(uiReducer(initialUi(), { type: 'open' }, 0).view).toBe('dashboard');
    expect(uiReducer(initialUi('workers'), { type: 'back' }, 3).view).toBe('dashboard');
  });

  it('maps keys to actions', () => {
    expect(keyToAction('', { upArrow: true })).toEqual({ type: 'up' });
    expect(keyToAction('j', {})).toEqual({ type: 'down' });
    expect(keyToAction('', { return: true })).toEqual({ type: 'open' });
    expect(keyToAction('', { escape: true })).toEqual({ type: 'back' });
    expect(keyToAction('w', {})).toEqual({ type: 'workers' });
    expect(keyToAction('q', {})).toEqual({ type: 'quit' });
    expect(keyToAction('c', { ctrl: true })).toEqual({ type: 'quit' });
    expect(keyToAction('x', {})).toBeUndefined();
  });
});

describe('workers model', () => {
  it('gives live workers panels, collapses finished ones and counts the waiting', () => {
    const store = new DashboardStore();
    store.apply(sampleRun());
    const m = selectWorkers(store.getState()!, NOW);
    expect(m.live.map((w) => w.task.id)).toEqual(['api']);
    expect(m.finished.map((w) => w.task.id)).toEqual(['ui']);
    // docs waits for api (a dependency), not for a free worker.
    expect(m.waiting).toBe(0);
    expect(m.afterDependencies).toBe(1);
  });

  it('fits panels to the terminal', () => {
    expect(gridLayout(4, 160, 40)).toMatchObject({ perRow: 4, gridRows: 1, panelWidth: 40, panelHeight: 40 });
    expect(gridLayout(4, 100, 40)).toMatchObject({
      perRow: 2,
      gridRows: 2,
      panelWidth: 50,
      panelHeight: 20,
      lines: 17,
    });
    expect(gridLayout(3, 30, 12)).toMatchObject({ perRow: 1, gridRows: 3, panelHeight: 5, lines: 2 });
  });
});

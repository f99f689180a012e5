import { describe, expect, it } from 'vitest';
import { renderPlainDashboard } from '../src/plain.js';
import { DashboardStore } from '../src/state/store.js';
import { T0, sampleRun } from './events.js';

const NOW = T0 + 100_000;

function state() {
  const store = new DashboardStore();
  store.apply(sampleRun());
  return store.getState()!;
}

describe('the HOST column (a distributed run)', () => {
  it('shows where each attempt runs, after the agent; a local run has no such column', () => {
    const hosts = new Map([['api', 'builder-2']]);
    const lines = renderPlainDashboard(state(), { now: NOW, width: 140, hosts }).split('\n');
    expect(lines[3]).toMatch(/^\s+TASK\s+STATUS\s+AGENT\s+HOST\s+CONTEXT\s+COST\s+ELAPSED\s+LAST MESSAGE$/);
    expect(lines[4]).toMatch(/^\s+api\s+▶ running\s+claude\/sonnet\s+builder-2\s+45\.2k/);
    // A task not placed on a host has an empty cell, not another task's host.
    expect(lines[5]).not.toContain('builder-2');
    expect(renderPlainDashboard(state(), { now: NOW, width: 140 })).not.toContain('HOST');
  });

  it('the store tells its views when hosts change, and only then', () => {
    const store = new DashboardStore();
    store.apply(sampleRun());
    let calls = 0;
    store.subscribe(() => calls++);
    store.setHosts(new Map([['api', 'h1']]));
    store.setHosts(new Map([['api', 'h1']]));
    expect(calls).toBe(1);
    store.setHosts(new Map([['api', 'h2']]));
    expect(calls).toBe(2);
    expect(store.hosts().get('api')).toBe('h2');
  });
});

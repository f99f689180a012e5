import { describe, expect, it } from 'vitest';
import { BELL, DashboardStore, ringOnAttention } from '../src/index.js';
import { ev, started } from './events.js';

describe('the dashboard bell', () => {
  it('rings once for each new question, dependency request and the run ending; never for progress', () => {
    const store = new DashboardStore();
    store.apply([started(['api', 'ui'])]);
    let out = '';
    const stop = ringOnAttention(store, { write: (s: string) => (out += s) });
    store.apply([ev(1, { type: 'task.progress', task: 'api', message: 'half way' })]);
    expect(out).toBe('');
    store.apply([ev(2, { type: 'task.attention', task: 'api', reason: 'REST or GraphQL?' })]);
    expect(out).toBe(BELL);
    // The same open question on the next change of state: no second ring.
    store.apply([ev(3, { type: 'task.progress', task: 'ui', message: 'still going' })]);
    expect(out).toBe(BELL);
    store.apply([ev(4, { type: 'task.blocked', task: 'ui', reason: 'dependency request', needs: 'zod@4' })]);
    expect(out).toBe(BELL.repeat(2));
    store.apply([ev(5, { type: 'run.finished', outcome: 'needs_attention', reason: 'stuck' })]);
    expect(out).toBe(BELL.repeat(3));
    stop();
    store.apply([ev(6, { type: 'task.attention', task: 'ui', reason: 'another question' })]);
    expect(out).toBe(BELL.repeat(3));
  });

  it('does not ring for what already waited when the view opened', () => {
    const store = new DashboardStore();
    store.apply([started(['api']), ev(1, { type: 'task.attention', task: 'api', reason: 'which one?' })]);
    let out = '';
    ringOnAttention(store, { write: (s: string) => (out += s) });
    store.apply([ev(2, { type: 'task.progress', task: 'api', message: 'waiting' })]);
    expect(out).toBe('');
  });
});

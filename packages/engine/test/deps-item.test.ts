/**
 * A dependency decision travels as an item of the user's channel, but only a distributed
 * supervisor's handler carries it out: the intake's rules (`acceptItem`, shared by every task
 * channel, the local user outbox and a user's direct write) refuse it and journal nothing, so a
 * worker cannot approve its own request.
 */
import { describe, expect, it } from 'vitest';
import { reduceRun, type OutboxItem, type RunEvent, type RunEventInput } from '@orch/core';
import { runStarted } from '@orch/test-utils';
import { USER_CHANNEL, acceptItem } from '../src/supervisor/intake.js';

const at = '2026-01-01T00:00:00.000Z';
const events = [
  runStarted(['pad']),
  { type: 'task.ready', task: 'pad' },
  {
    type: 'task.started',
    task: 'pad',
    attempt: 1,
    session: 's',
    agent: 'shell',
    promptPath: 'p',
    logPath: 'l',
  },
  { type: 'task.blocked', task: 'pad', needs: 'leftpad@1', reason: 'I need leftpad' },
].map((e) => ({ ts: at, ...e }) as RunEvent);

const decision: OutboxItem = {
  v: 1,
  id: 'item-deps-0001',
  task: 'pad',
  attempt: 1,
  token: 't'.repeat(64),
  ack: true,
  body: { kind: 'deps', decision: 'approve', tasks: ['pad'] },
};

describe('a dependency decision as an intake item', () => {
  it.each([
    ['the task channel of the blocked task', 'pad'],
    ["the user's channel", USER_CHANNEL],
  ])('is refused from %s, and nothing is journaled', async (_what, channel) => {
    const state = reduceRun(events)!;
    expect(state.tasks.pad?.status).toBe('blocked');
    const appended: RunEventInput[] = [];
    const verdict = await acceptItem('', state, channel, decision, async (ev) => {
      appended.push(ev);
      return { ts: at, ...ev } as RunEvent;
    });
    expect(verdict).toEqual({
      ok: false,
      detail: 'a dependency decision is carried out only by a distributed supervisor',
    });
    expect(appended).toEqual([]);
  });
});

/**
 * Mail the intake delivers, handed on to where the recipients' attempts run (`handMailOn`): a
 * worker's message to another task lands in that task's inbox and goes to its runtime with the
 * attempt it is for, on a real run directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MailboxMessage, OutboxItem, RunState } from '@orch/core';
import { runStarted } from '@orch/test-utils';
import {
  Mailbox,
  appendEvent,
  dropItem,
  ensureRunKey,
  loadRunState,
  newItemId,
  taskChannelPaths,
  taskToken,
} from '@orch/store';
import { Intake, handMailOn, mailRecipients } from '../src/supervisor/intake.js';

let dir: string;
let state: RunState;
let intake: Intake;
const launched = new Map<string, number>();
const handed: [task: string, attempt: number, body: string][] = [];

async function started(task: string, attempt: number): Promise<void> {
  await appendEvent(dir, {
    type: 'task.started',
    task,
    attempt,
    session: `s-${task}`,
    agent: 'shell',
    promptPath: 'p',
    logPath: 'l',
  });
  state = (await loadRunState(dir)) as RunState;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orch-intake-mail-'));
  await appendEvent(dir, runStarted(['a', 'b', 'c'], { request: 'intake mail' }));
  state = (await loadRunState(dir)) as RunState;
  await started('a', 1);
  await started('b', 1);
  launched.clear();
  handed.length = 0;
  const workers = {
    deliverMail: async (task: string, attempt: number, msg: MailboxMessage): Promise<void> => {
      handed.push([task, attempt, msg.body]);
    },
  };
  intake = new Intake({
    runDir: dir,
    state: () => state,
    append: async (ev) => {
      const written = await appendEvent(dir, ev);
      state = (await loadRunState(dir)) as RunState;
      return written;
    },
    launched,
    onMail: (msg) => handMailOn(workers, state, msg, launched),
  });
  await intake.start();
});
afterEach(async () => {
  intake.close();
  await intake.idle();
  await rm(dir, { recursive: true, force: true });
});

async function mail(task: string, attempt: number, to: string, body: string): Promise<OutboxItem> {
  return {
    v: 1,
    id: newItemId(),
    task,
    attempt,
    token: taskToken(await ensureRunKey(dir), task, attempt),
    body: { kind: 'mail', to, message: { type: 'info', body } },
  };
}

describe('mail the intake delivers', () => {
  it("goes into the recipient's inbox and to its runtime with the attempt launched last", async () => {
    // b's second attempt is launched, not journaled yet: the message is for that one.
    launched.set('b', 2);
    await dropItem(taskChannelPaths(dir, 'a').outbox, await mail('a', 1, 'b', 'schema moved'));
    await intake.drain();
    const box = new Mailbox(dir, { tasks: ['a', 'b', 'c'] });
    expect((await box.unread('b')).map((m) => m.body)).toEqual(['schema moved']);
    expect(handed).toEqual([['b', 2, 'schema moved']]);

    // A broadcast: to every other task with a started attempt (c has none yet: its prompt shows it).
    await started('b', 2);
    await dropItem(taskChannelPaths(dir, 'b').outbox, await mail('b', 2, 'all', 'everyone'));
    await intake.drain();
    expect(handed.slice(1)).toEqual([['a', 1, 'everyone']]);
    expect((await box.unread('c')).map((m) => m.body)).toEqual(['everyone']);
  });

  it('skips finished tasks and the sender of a broadcast', () => {
    const s = {
      order: ['a', 'b', 'c'],
      tasks: {
        a: { status: 'running', attempt: 1 },
        b: { status: 'merged', attempt: 1 },
        c: { status: 'blocked', attempt: 3 },
      },
    } as unknown as RunState;
    expect(mailRecipients(s, { from: 'a', to: 'all' })).toEqual([{ task: 'c', attempt: 3 }]);
    expect(mailRecipients(s, { from: 'user', to: 'b' })).toEqual([]);
  });
});

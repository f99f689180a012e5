/**
 * The intake's look before it opens a channel's folders: what the look lists is only a hint, and an
 * outbox a worker swapped for a symlink is refused, never read through.
 */
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutboxItem, RunEvent, RunState } from '@orch/core';
import { runStarted } from '@orch/test-utils';
import {
  appendEvent,
  dropItem,
  ensureRunKey,
  loadRunState,
  newItemId,
  readEvents,
  taskChannelPaths,
  taskToken,
} from '@orch/store';
import { Intake } from '../src/supervisor/intake.js';

let dir: string;
let state: RunState;
let intake: Intake;
let host: ConstructorParameters<typeof Intake>[0];
const launched = new Map<string, number>();

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
  dir = await mkdtemp(join(tmpdir(), 'orch-intake-'));
  await appendEvent(dir, runStarted(['a', 'b'], { request: 'intake' }));
  state = (await loadRunState(dir)) as RunState;
  await started('a', 1);
  await started('b', 1);
  launched.clear();
  host = {
    runDir: dir,
    state: () => state,
    append: async (ev) => {
      const written = await appendEvent(dir, ev);
      state = (await loadRunState(dir)) as RunState;
      return written;
    },
    launched,
  };
  intake = new Intake(host);
  await intake.start();
});
afterEach(async () => {
  intake.close();
  await intake.idle();
  await rm(dir, { recursive: true, force: true });
});

const outbox = (task: string): ReturnType<typeof taskChannelPaths>['outbox'] =>
  taskChannelPaths(dir, task).outbox;

async function item(
  task: string,
  attempt: number,
  body: OutboxItem['body'],
  token?: string,
): Promise<OutboxItem> {
  return {
    v: 1,
    id: newItemId(),
    task,
    attempt,
    token: token ?? taskToken(await ensureRunKey(dir), task, attempt),
    body,
  };
}

const events = async (): Promise<RunEvent[]> => (await readEvents(dir)).events;
const of = <T extends RunEvent['type']>(evs: RunEvent[], type: T): Extract<RunEvent, { type: T }>[] =>
  evs.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

describe('intake: the look before opening a channel', () => {
  it('refuses an outbox whose folder is a symlink, even with a valid item behind it', async () => {
    const box = outbox('b');
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(join(elsewhere, 'new'), { recursive: true });
    await mkdir(join(elsewhere, 'tmp'), { recursive: true });
    const valid = await item('b', 1, { kind: 'done', summary: 'through a link' });
    await dropItem(
      {
        ...box,
        dir: elsewhere,
        new: join(elsewhere, 'new'),
        tmp: join(elsewhere, 'tmp'),
        ack: join(elsewhere, 'ack'),
      },
      valid,
    );
    await rm(box.new, { recursive: true, force: true });
    await symlink(join(elsewhere, 'new'), box.new);
    await intake.drain();
    const evs = await events();
    expect(of(evs, 'task.reported')).toEqual([]);
    expect(of(evs, 'worker.rejected').map((e) => e.reason)).toContain(
      'its outbox is not made of plain directories',
    );
    // Nothing behind the link was touched.
    expect(await readdir(join(elsewhere, 'new'))).toEqual([`${valid.id}.json`]);
  });

  it('takes items from a channel woken by its own watch, and the others on the next full pass', async () => {
    const a = await item('a', 1, { kind: 'progress', message: 'from a' });
    const b = await item('b', 1, { kind: 'progress', message: 'from b' });
    await dropItem(outbox('a'), a);
    await dropItem(outbox('b'), b);
    intake.poke('a');
    await intake.idle();
    await intake.drain();
    const progress = of(await events(), 'task.progress').map((e) => e.message);
    expect(progress.sort()).toEqual(['from a', 'from b']);
    expect(await readdir(outbox('a').new)).toEqual([]);
    expect(await readdir(outbox('b').new)).toEqual([]);
  });
});

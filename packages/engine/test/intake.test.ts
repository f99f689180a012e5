/**
 * The supervisor's intake on a real run directory: items dropped into task channels the way
 * workers drop them (and the ways a hostile one could), checked, journaled and removed.
 */
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
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

describe('intake', () => {
  it('journals a valid item with its id, removes it, and drops a repeat of the same id', async () => {
    const it1 = await item('a', 1, { kind: 'progress', message: 'half way' });
    await dropItem(outbox('a'), it1);
    await intake.drain();
    const progress = of(await events(), 'task.progress');
    expect(progress).toEqual([expect.objectContaining({ task: 'a', message: 'half way', item: it1.id })]);
    expect(await readdir(outbox('a').new)).toEqual([]);
    // The same item again (a crash between journaling and deleting): no second event.
    await dropItem(outbox('a'), it1);
    await intake.drain();
    expect(of(await events(), 'task.progress')).toHaveLength(1);
    expect(await readdir(outbox('a').new)).toEqual([]);
  });

  it("refuses another task's token, another task's id, and a worker claiming a sender", async () => {
    const key = await ensureRunKey(dir);
    await dropItem(outbox('b'), await item('b', 1, { kind: 'done', summary: 'x' }, taskToken(key, 'a', 1)));
    await dropItem(outbox('b'), await item('a', 1, { kind: 'done', summary: 'x' }));
    await dropItem(
      outbox('a'),
      await item('a', 1, { kind: 'mail', to: 'b', from: 'supervisor', message: { type: 'info', body: 'x' } }),
    );
    await intake.drain();
    const evs = await events();
    expect(of(evs, 'task.reported')).toEqual([]);
    const refused = of(evs, 'worker.rejected').map((e) => [e.channel, e.reason]);
    // Channels are read in any order (a watcher may wake for one before the next is written).
    expect(refused).toHaveLength(3);
    expect(refused).toEqual(
      expect.arrayContaining([
        ['b', expect.stringMatching(/token does not belong to task b attempt 1/)],
        ['b', expect.stringMatching(/an item for task "a" in the channel of b/)],
        ['a', expect.stringMatching(/cannot send as "supervisor"/)],
      ]),
    );
    expect(state.rejected?.count).toBe(3);
  });

  it('refuses bad files as untrusted input: not JSON, too large, a symlink, an unknown kind', async () => {
    const box = outbox('a');
    await writeFile(join(box.new, 'x1.json'), '{"v":1,');
    await writeFile(join(box.new, 'x2.json'), 'x'.repeat(200_000));
    await symlink('/etc/passwd', join(box.new, 'x3.json'));
    await writeFile(
      join(box.new, 'x4.json'),
      JSON.stringify({ ...(await item('a', 1, { kind: 'done', summary: 'x' })), body: { kind: 'merged' } }),
    );
    await intake.drain();
    const reasons = of(await events(), 'worker.rejected').map((e) => e.reason);
    expect(reasons).toEqual([
      'not valid JSON',
      expect.stringMatching(/200000 bytes; the limit is/),
      expect.stringMatching(/cannot open the item \(ELOOP\)/),
      expect.stringMatching(/^invalid item: body/),
    ]);
    expect(await readdir(box.new)).toEqual([]);
  });

  it('journals at most five refusals a minute per channel and counts the rest', async () => {
    for (let i = 0; i < 40; i++)
      await writeFile(join(outbox('a').new, `bad-${String(i).padStart(2, '0')}.json`), 'no');
    await intake.drain();
    const rejected = of(await events(), 'worker.rejected');
    expect(rejected).toHaveLength(5);
    expect(await readdir(outbox('a').new)).toEqual([]);
  });

  it('keeps a report of a launched attempt until its task.started is journaled', async () => {
    launched.set('a', 2);
    const early = await item('a', 2, { kind: 'done', summary: 'quick' });
    await dropItem(outbox('a'), early);
    await intake.drain();
    expect(of(await events(), 'task.reported')).toEqual([]);
    expect(await readdir(outbox('a').new)).toEqual([`${early.id}.json`]);
    await started('a', 2);
    await intake.drain();
    expect(of(await events(), 'task.reported')).toEqual([
      expect.objectContaining({ task: 'a', status: 'done', summary: 'quick' }),
    ]);
    expect(state.tasks.a?.report).toMatchObject({ status: 'done', summary: 'quick' });
    // A report of an attempt never started is refused.
    await dropItem(outbox('b'), await item('b', 5, { kind: 'done', summary: 'x' }));
    await intake.drain();
    expect(of(await events(), 'worker.rejected').at(-1)?.reason).toMatch(/attempt 5 of b was never started/);
  });

  it("takes a finished task's last usage and exit quietly, and refuses its reports", async () => {
    await appendEvent(dir, { type: 'task.cancelled', task: 'b', reason: 'test' });
    state = (await loadRunState(dir)) as RunState;
    await dropItem(
      outbox('b'),
      await item('b', 1, { kind: 'exited', exitCode: 0, source: 'process-exit', detail: 'exit 0' }),
    );
    await dropItem(outbox('b'), await item('b', 1, { kind: 'done', summary: 'late' }));
    await intake.drain();
    const evs = await events();
    expect(of(evs, 'task.exited')).toEqual([]);
    expect(of(evs, 'worker.rejected').map((e) => e.reason)).toEqual(['task b is already cancelled']);
  });

  it('never follows an outbox folder swapped for a symlink: files elsewhere are neither read nor deleted', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'orch-elsewhere-'));
    try {
      await writeFile(join(elsewhere, 'package.json'), '{"name":"precious"}');
      const box = outbox('a');
      // Swapped while no intake watches (a running one would remake the folder in between).
      intake.close();
      await intake.idle();
      await rm(box.new, { recursive: true, force: true });
      await symlink(elsewhere, box.new);
      await rm(box.ack, { recursive: true, force: true });
      await symlink(elsewhere, box.ack);
      intake = new Intake(host);
      await intake.start();
      expect(await readdir(elsewhere)).toEqual(['package.json']);
      const refused = of(await events(), 'worker.rejected');
      expect(refused.length).toBeGreaterThan(0); // once per scan (a watcher may add one)
      for (const e of refused)
        expect([e.channel, e.reason]).toEqual(['a', 'its outbox is not made of plain directories']);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });
});

// What the look before opening a channel's folders lists is only a hint; an outbox a worker
// swapped for a symlink is refused, never read through.
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

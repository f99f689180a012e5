import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunEvent, type RunState } from '@orch/core';
import { appendEvent, loadRunState, loadRunStateAt, readEvents, repairJournal } from '../src/journal.js';
import { signLine } from '@orch/core';
import { ensureRunKey } from '../src/secrets.js';
import { JournalFollower } from '../src/follow.js';
import { watchJournal } from '../src/watch.js';
import { runFixture, startRun, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

describe('journal', () => {
  it('appends validated events with a timestamp, one line each', async () => {
    await startRun(dir, ['a', 'b']);
    const ev = await appendEvent(dir, { type: 'task.progress', task: 'a', message: 'halfway' });
    expect(ev.ts).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const text = await readFile(join(dir, 'events.jsonl'), 'utf8');
    expect(text.split('\n').filter(Boolean)).toHaveLength(2);
    const { events, tornTail, skipped } = await readEvents(dir);
    expect(events.map((e) => e.type)).toEqual(['run.started', 'task.progress']);
    expect({ tornTail, skipped }).toEqual({ tornTail: false, skipped: 0 });
  });

  it('refuses an event that does not match the schema', async () => {
    await expect(
      appendEvent(dir, { type: 'task.progress', task: 'a' } as unknown as Parameters<typeof appendEvent>[1]),
    ).rejects.toMatchObject({ code: 'ERR_ORCH_INVALID_EVENT' });
  });

  it('loses nothing when 12 processes append 150 events each at once', async () => {
    await startRun(dir, ['t0']);
    const procs = 12;
    const per = 150;
    await Promise.all(
      Array.from({ length: procs }, (_, i) => runFixture('append-events.mjs', [dir, `t${i}`, String(per)])),
    );
    const { events, tornTail, skipped } = await readEvents(dir);
    expect(tornTail).toBe(false);
    expect(skipped).toBe(0);
    const progress = events.filter(
      (e): e is Extract<RunEvent, { type: 'task.progress' }> => e.type === 'task.progress',
    );
    expect(progress).toHaveLength(procs * per);
    for (let i = 0; i < procs; i++) {
      // each process's own events stay in its order
      const mine = progress.filter((e) => e.task === `t${i}`).map((e) => e.message);
      expect(mine).toEqual(Array.from({ length: per }, (_, k) => `t${i}:${k}`));
    }
  });

  it('ignores a half-written last line and repairs it', async () => {
    await startRun(dir, ['a']);
    await appendEvent(dir, { type: 'task.progress', task: 'a', message: 'one' });
    await appendFile(join(dir, 'events.jsonl'), '{"type":"task.progress","task":"a","mess');
    const read = await readEvents(dir);
    expect(read.tornTail).toBe(true);
    expect(read.events).toHaveLength(2);
    expect((await loadRunState(dir))?.tasks.a?.lastMessage).toBe('one');

    const res = await repairJournal(dir);
    expect(res).toMatchObject({ repaired: true, truncatedBytes: 40 });
    const after = await readEvents(dir);
    expect(after.tornTail).toBe(false);
    expect(after.events.map((e) => e.type)).toEqual(['run.started', 'task.progress', 'repair']);
    expect(await repairJournal(dir)).toMatchObject({ repaired: false, truncatedBytes: 0 });
  });

  it('counts and skips complete lines that are not events', async () => {
    await startRun(dir, ['a']);
    // Signed with the run's key, but not a valid event.
    await appendFile(
      join(dir, 'events.jsonl'),
      `${signLine(await ensureRunKey(dir), '{"type":"nope","ts":"x"}')}\n`,
    );
    await appendEvent(dir, { type: 'task.ready', task: 'a' });
    const { events, skipped, unsigned } = await readEvents(dir);
    expect({ skipped, unsigned }).toEqual({ skipped: 1, unsigned: 0 });
    expect(events).toHaveLength(2);
  });

  it('ignores and counts lines it did not sign: forged events never reach the state', async () => {
    await startRun(dir, ['a', 'b']);
    const journal = join(dir, 'events.jsonl');
    const ts = new Date().toISOString();
    const forged = [
      'not json',
      JSON.stringify({
        type: 'task.merged',
        ts,
        task: 'a',
        commit: 'f'.repeat(40),
        stagingBefore: 'a'.repeat(40),
        evidence: { source: 'merge', at: ts },
      }),
      // A MAC made with another key, and one cut from a signed line and pasted onto another.
      signLine(Buffer.alloc(32, 7), JSON.stringify({ type: 'run.finished', ts, outcome: 'failed' })),
    ];
    const real = (await readFile(journal, 'utf8')).trim();
    const mac = /,"mac":"[0-9a-f]{64}"\}$/.exec(real)?.[0] ?? '';
    forged.push(`${JSON.stringify({ type: 'task.verified', ts, task: 'b', ok: true }).slice(0, -1)}${mac}`);
    await appendFile(journal, `${forged.join('\n')}\n`);
    await appendEvent(dir, { type: 'task.ready', task: 'a' });
    const read = await readEvents(dir);
    expect(read.unsigned).toBe(4);
    expect(read.events.map((e) => e.type)).toEqual(['run.started', 'task.ready']);
    const loaded = await loadRunStateAt(dir);
    expect(loaded.unsigned).toBe(4);
    expect(loaded.state?.tasks.a?.status).toBe('ready');
    expect(loaded.state?.outcome).toBeUndefined();
  });

  it('reads nothing as signed without the run key', async () => {
    await startRun(dir, ['a']);
    await rm(join(dir, 'journal.key'));
    const read = await readEvents(dir);
    expect(read).toMatchObject({ events: [], unsigned: 1 });
  });

  it('has no state before run.started', async () => {
    expect(await loadRunState(dir)).toBeUndefined();
  });
});

describe('watchJournal', () => {
  it('delivers the current state, then only new events appended by other processes', async () => {
    await startRun(dir, ['a', 'b']);
    const calls: { events: RunEvent[]; state: RunState }[] = [];
    let notify: () => void = () => undefined;
    const w = watchJournal(dir, (events, state) => {
      calls.push({ events, state });
      notify();
    });
    const waitFor = (pred: () => boolean): Promise<void> =>
      new Promise((resolve) => {
        notify = () => {
          if (pred()) resolve();
        };
        notify();
      });
    try {
      await waitFor(() => calls.length >= 1);
      expect(calls[0]?.events).toEqual([]);
      expect(calls[0]?.state.order).toEqual(['a', 'b']);

      await runFixture('append-events.mjs', [dir, 'a', '3']);
      await waitFor(() => calls.flatMap((c) => c.events).length >= 3);
      const seen = calls.flatMap((c) => c.events);
      expect(seen.map((e) => (e.type === 'task.progress' ? e.message : e.type))).toEqual([
        'a:0',
        'a:1',
        'a:2',
      ]);
      expect(calls.at(-1)?.state.tasks.a?.lastMessage).toBe('a:2');
      // Each call gets its own copy of the state.
      expect(calls[0]?.state.tasks.a?.lastMessage).toBeUndefined();
    } finally {
      w.close();
    }
  });

  it('starts before the journal exists and picks up the run when it starts', async () => {
    const states: RunState[] = [];
    let notify: () => void = () => undefined;
    const w = watchJournal(join(dir, 'later'), (_e, s) => {
      states.push(s);
      notify();
    });
    try {
      const got = new Promise<void>((r) => (notify = r));
      await startRun(join(dir, 'later'), ['x']);
      await got;
      expect(states[0]?.order).toEqual(['x']);
    } finally {
      w.close();
    }
  });
});

describe('JournalFollower', () => {
  it('applies only the lines appended since its last read, and starts over when the journal shrinks', async () => {
    await startRun(dir, ['a']);
    const f = new JournalFollower(dir);
    const seen: { types: string[]; reset: boolean }[] = [];
    f.subscribe((events, _state, { reset }) => seen.push({ types: events.map((e) => e.type), reset }));
    expect((await f.refresh()).map((e) => e.type)).toEqual(['run.started']);
    await appendEvent(dir, { type: 'task.ready', task: 'a' });
    await appendEvent(dir, { type: 'task.progress', task: 'a', message: 'one' });
    expect((await f.refresh()).map((e) => e.type)).toEqual(['task.ready', 'task.progress']);
    expect(await f.refresh()).toEqual([]);
    expect(f.state?.tasks.a?.lastMessage).toBe('one');

    // Cut back to its first line and appended to: shorter than what was read, so read again.
    const journal = join(dir, 'events.jsonl');
    const first = (await readFile(journal, 'utf8')).split('\n')[0] as string;
    await writeFile(journal, `${first}\n`);
    await appendEvent(dir, { type: 'task.progress', task: 'a', message: 'two' });
    expect((await f.refresh()).map((e) => e.type)).toEqual(['run.started', 'task.progress']);
    expect(f.state?.tasks.a?.status).toBe('pending');
    expect(f.state?.tasks.a?.lastMessage).toBe('two');
    expect(seen).toEqual([
      { types: ['run.started'], reset: true },
      { types: ['task.ready', 'task.progress'], reset: false },
      { types: ['run.started', 'task.progress'], reset: true },
    ]);
  });
});

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAILBOX_MAX_BODY_BYTES, type MailboxMessage } from '@orch/core';
import { Mailbox } from '../src/mailbox.js';
import { mailboxHookOutput, mailboxHookSettings } from '../src/hooks.js';
import { runFixture, startRun, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

const TASKS = ['api', 'ui', 'db'];

describe('Mailbox', () => {
  it('sends, peeks without side effects, and checks once', async () => {
    const mb = new Mailbox(dir, { tasks: TASKS });
    const sent = await mb.send('ui', 'the API returns ISO dates', { from: 'api' });
    expect(sent).toMatchObject({ from: 'api', to: 'ui', type: 'info', seq: 1 });
    expect(await mb.peek('ui')).toBe(1);
    expect(await mb.peek('ui')).toBe(1);
    const got = await mb.check('ui');
    expect(got).toEqual([sent]);
    expect(await mb.check('ui')).toEqual([]);
    expect(await mb.peek('ui')).toBe(0);
    expect(await mb.peek('api')).toBe(0);
  });

  it('opens with the tasks of the run from the journal', async () => {
    await startRun(dir, TASKS);
    const mb = await Mailbox.open(dir);
    expect(mb.inboxes()).toEqual([...TASKS, 'supervisor']);
    await expect(Mailbox.open(join(dir, 'nothing'))).rejects.toMatchObject({
      code: 'ERR_ORCH_RUN_NOT_FOUND',
    });
  });

  it('keeps typed fields and refuses typed messages without them', async () => {
    const mb = new Mailbox(dir, { tasks: TASKS });
    await mb.send('supervisor', { type: 'blocked-on', body: 'need the schema', task: 'db' }, { from: 'api' });
    await mb.send(
      'supervisor',
      { type: 'needs-decision', body: 'x', question: 'REST or RPC?' },
      { from: 'ui' },
    );
    await mb.send(
      'all',
      { type: 'interface-changed', body: 'renamed', target: 'contracts/api.yaml' },
      { from: 'api' },
    );
    const got = await mb.check('supervisor');
    expect(got.map((m) => m.type)).toEqual(['blocked-on', 'needs-decision', 'interface-changed']);
    expect(got[0]).toMatchObject({ task: 'db' });
    expect(got[1]).toMatchObject({ question: 'REST or RPC?' });
    expect(got[2]).toMatchObject({ target: 'contracts/api.yaml', to: 'all' });
    await expect(
      mb.send('ui', { type: 'blocked-on', body: 'x' } as unknown as MailboxMessage, { from: 'api' }),
    ).rejects.toMatchObject({ code: 'ERR_ORCH_INVALID_MESSAGE' });
  });

  it('validates recipients and names', async () => {
    const mb = new Mailbox(dir, { tasks: TASKS });
    for (const bad of ['../ui', 'a/b', 'ui\u0007', '..', '']) {
      await expect(mb.send(bad, 'x', { from: 'api' })).rejects.toMatchObject({
        code: 'ERR_ORCH_INVALID_NAME',
      });
    }
    await expect(mb.send('nobody', 'x', { from: 'api' })).rejects.toMatchObject({
      code: 'ERR_ORCH_UNKNOWN_RECIPIENT',
    });
    await expect(mb.check('nobody')).rejects.toMatchObject({ code: 'ERR_ORCH_UNKNOWN_RECIPIENT' });
    await expect(mb.send('ui', 'x', { from: '../../etc' })).rejects.toMatchObject({
      code: 'ERR_ORCH_INVALID_NAME',
    });
    // nothing was written outside the mailbox
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a message over the size limit with a clear error', async () => {
    const mb = new Mailbox(dir, { tasks: TASKS });
    const big = 'x'.repeat(MAILBOX_MAX_BODY_BYTES + 1);
    await expect(mb.send('ui', big, { from: 'api' })).rejects.toMatchObject({
      code: 'ERR_ORCH_MESSAGE_TOO_LARGE',
      message: expect.stringContaining(`limit is ${MAILBOX_MAX_BODY_BYTES} bytes`),
    });
    expect(await mb.peek('ui')).toBe(0);
  });

  it('delivers a broadcast to everyone but its sender, and history lists it once', async () => {
    const mb = new Mailbox(dir, { tasks: TASKS });
    const b = await mb.broadcast('naming: use camelCase', { from: 'ui' });
    expect(await mb.check('ui')).toEqual([]);
    for (const inbox of ['api', 'db', 'supervisor']) expect(await mb.check(inbox)).toEqual([b]);
    await mb.send('api', 'direct', { from: 'supervisor' });
    const h = await mb.history();
    expect(h.map((m) => [m.from, m.to])).toEqual([
      ['ui', 'all'],
      ['supervisor', 'api'],
    ]);
  });

  // Processes side by side, more than the cores: what matters is that they overlap, not how many
  // messages there are (4 000 from 20 processes took most of this file's time on 2 cores; a process
  // start costs far more than its sends).
  it('loses and duplicates nothing with 4 processes sending 100 messages each, and keeps each sender in order', async () => {
    const PROCESSES = 4;
    const EACH = 100;
    const total = PROCESSES * EACH;
    const senders = Array.from({ length: PROCESSES }, (_, i) => `w${i}`);
    const tasks = [...senders, 'sink'];
    await Promise.all(
      senders.map((s) => runFixture('send-messages.mjs', [dir, s, 'sink', String(EACH), tasks.join(',')])),
    );
    const mb = new Mailbox(dir, { tasks });
    expect(await mb.peek('sink')).toBe(total);
    const got = await mb.check('sink');
    expect(got).toHaveLength(total);
    expect(new Set(got.map((m) => m.id)).size).toBe(total);
    expect(new Set(got.map((m) => m.body)).size).toBe(total);
    for (const s of senders) {
      const mine = got.filter((m) => m.from === s);
      expect(mine.map((m) => m.body)).toEqual(Array.from({ length: EACH }, (_, k) => `${s}:${k}`));
      expect(mine.map((m) => m.seq)).toEqual(Array.from({ length: EACH }, (_, k) => k + 1));
    }
    expect(await mb.history()).toHaveLength(total);
  });

  it('never gives one message to two processes checking the same inbox at once', async () => {
    const mb = new Mailbox(dir, { tasks: TASKS });
    const SENT = 120;
    for (let i = 0; i < SENT; i++) await mb.send('db', `m${i}`, { from: i % 2 ? 'api' : 'ui' });
    const [a, b] = await Promise.all(
      ['1', '2'].map(async () => {
        const { stdout } = await runFixture('check-inbox.mjs', [dir, 'db', TASKS.join(','), '20']);
        return JSON.parse(stdout) as string[];
      }),
    );
    const all = [...(a ?? []), ...(b ?? [])];
    expect(all).toHaveLength(SENT);
    expect(new Set(all).size).toBe(SENT);
    expect(await mb.peek('db')).toBe(0);
  });

  it('watch yields waiting and newly arriving messages until aborted', async () => {
    const mb = new Mailbox(dir, { tasks: TASKS });
    await mb.send('api', 'before', { from: 'ui' });
    const ac = new AbortController();
    const got: string[] = [];
    const done = (async () => {
      for await (const m of mb.watch('api', { signal: ac.signal })) {
        got.push(m.body);
        if (got.length === 1) await runFixture('send-messages.mjs', [dir, 'db', 'api', '2', TASKS.join(',')]);
        if (got.length === 3) ac.abort();
      }
    })();
    await done;
    expect(got).toEqual(['before', 'db:0', 'db:1']);
    expect(await mb.peek('api')).toBe(0);
  });

  it('watch with consume=false leaves messages unread', async () => {
    const mb = new Mailbox(dir, { tasks: TASKS });
    await mb.send('api', 'hello', { from: 'ui' });
    const ac = new AbortController();
    for await (const m of mb.watch('api', { signal: ac.signal, consume: false })) {
      expect(m.body).toBe('hello');
      ac.abort();
    }
    expect(await mb.peek('api')).toBe(1);
  });
});

describe('mailbox hooks', () => {
  it('builds Claude Code settings that run the hook on both events, quoting the binary', () => {
    const s = mailboxHookSettings(['node', '/opt/my orch/bin.js']) as {
      hooks: Record<string, { matcher?: string; hooks: { type: string; command: string }[] }[]>;
    };
    expect(Object.keys(s.hooks)).toEqual(['PostToolUse', 'UserPromptSubmit']);
    expect(s.hooks.PostToolUse?.[0]?.hooks[0]).toMatchObject({
      type: 'command',
      command: "node '/opt/my orch/bin.js' mailbox hook",
    });
  });

  it('adds messages as additionalContext for the event that fired, and nothing when empty', async () => {
    const mb = new Mailbox(dir, { tasks: TASKS });
    await mb.send('api', 'schema changed', { from: 'db' });
    const out = mailboxHookOutput('UserPromptSubmit', await mb.check('api')) as {
      hookSpecificOutput: { hookEventName: string; additionalContext: string };
    };
    expect(out.hookSpecificOutput.hookEventName).toBe('UserPromptSubmit');
    expect(out.hookSpecificOutput.additionalContext).toContain('schema changed');
    expect(mailboxHookOutput('PostToolUse', [])).toBeUndefined();
  });
});

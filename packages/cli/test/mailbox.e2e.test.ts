import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailboxMessage } from '@orch/core';
import { Mailbox } from '@orch/store';
import { orchBin, spawnOrch } from '@orch/test-utils';
import { CLEAN_ENV, runRepo, type RunRepo } from './task-fixture.js';

let r: RunRepo;
beforeAll(async () => {
  r = await runRepo();
});
afterAll(() => r.repo.cleanup());

describe('orch mailbox', () => {
  it('sends from a worktree (sender from ORCH_TASK) and the root reads the same mailbox', async () => {
    const sent = await r.orch(
      ['mailbox', 'send', 'ui', 'dates are ISO now', '--json'],
      { ORCH_TASK: 'api' },
      r.worktree,
    );
    expect(sent.exitCode).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ from: 'api', to: 'ui', type: 'info' });

    const peek = await r.orch(['mailbox', 'peek', 'ui', '--json']);
    expect(JSON.parse(peek.stdout)).toEqual({ inbox: 'ui', unread: 1 });
    const check = await r.orch(['mailbox', 'check', 'ui', '--json']);
    const msgs = JSON.parse(check.stdout) as MailboxMessage[];
    expect(msgs.map((m) => m.body)).toEqual(['dates are ISO now']);
    const again = await r.orch(['mailbox', 'check', 'ui']);
    expect(again.stdout).toContain('no unread messages for ui');
  });

  it('sends typed messages and checks the typed fields', async () => {
    const bad = await r.orch(['mailbox', 'send', 'supervisor', 'waiting', '--type', 'blocked-on'], {
      ORCH_TASK: 'ui',
    });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('needs --task');
    const unknownType = await r.orch(['mailbox', 'send', 'supervisor', 'x', '--type', 'shout']);
    expect(unknownType.exitCode).toBe(2);
    const ok = await r.orch(
      ['mailbox', 'send', 'supervisor', 'waiting for the schema', '--type', 'blocked-on', '--task', 'db'],
      { ORCH_TASK: 'ui' },
    );
    expect(ok.exitCode).toBe(0);
    await r.orch([
      'mailbox',
      'send',
      'supervisor',
      'REST or RPC?',
      '--type',
      'needs-decision',
      '--from',
      'api',
    ]);
    const msgs = JSON.parse(
      (await r.orch(['mailbox', 'check', 'supervisor', '--json'])).stdout,
    ) as MailboxMessage[];
    expect(msgs).toMatchObject([
      { type: 'blocked-on', task: 'db', from: 'ui' },
      { type: 'needs-decision', question: 'REST or RPC?', from: 'api' },
    ]);
  });

  it('broadcasts to everyone but the sender and lists it in history', async () => {
    const b = await r.orch(['mailbox', 'broadcast', 'use camelCase'], { ORCH_TASK: 'db' });
    expect(b.exitCode).toBe(0);
    for (const [inbox, n] of [
      ['api', 1],
      ['ui', 1],
      ['supervisor', 1],
      ['db', 0],
    ] as const) {
      expect(JSON.parse((await r.orch(['mailbox', 'peek', inbox, '--json'])).stdout)).toMatchObject({
        unread: n,
      });
    }
    const history = JSON.parse((await r.orch(['mailbox', 'history', '--json'])).stdout) as MailboxMessage[];
    expect(history.filter((m) => m.to === 'all').map((m) => m.body)).toEqual(['use camelCase']);
  });

  it('refuses bad recipients, traversal and oversized messages clearly', async () => {
    const unknown = await r.orch(['mailbox', 'send', 'nobody', 'x']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('ERR_ORCH_UNKNOWN_RECIPIENT');
    const traversal = await r.orch(['mailbox', 'send', '../../etc', 'x']);
    expect(traversal.stderr).toContain('ERR_ORCH_INVALID_NAME');
    const big = await r.orch(['mailbox', 'send', 'ui', 'x'.repeat(70_000)]);
    expect(big.exitCode).toBe(1);
    expect(big.stderr).toContain('ERR_ORCH_MESSAGE_TOO_LARGE');
  });

  it('hook prints additionalContext for unread messages once, then nothing', async () => {
    await r.orch(['mailbox', 'check', 'api']); // start empty
    await r.orch(['mailbox', 'send', 'api', 'the users table has a new column', '--from', 'db']);
    const input = JSON.stringify({ hook_event_name: 'PostToolUse', tool_name: 'Bash', session_id: 's' });
    const first = await r.orch(['mailbox', 'hook'], { ORCH_TASK: 'api' }, r.worktree, input);
    expect(first.exitCode).toBe(0);
    const out = JSON.parse(first.stdout) as {
      hookSpecificOutput: { hookEventName: string; additionalContext: string };
    };
    expect(out.hookSpecificOutput.hookEventName).toBe('PostToolUse');
    expect(out.hookSpecificOutput.additionalContext).toContain('the users table has a new column');
    const second = await r.orch(['mailbox', 'hook'], { ORCH_TASK: 'api' }, r.worktree, input);
    expect(second).toMatchObject({ exitCode: 0, stdout: '' });
    // Outside a worker it stays silent and never fails the agent's turn.
    const none = await r.orch(['mailbox', 'hook'], {}, '/', input);
    expect(none).toMatchObject({ exitCode: 0, stdout: '' });
  });

  it('watch prints messages as they arrive', async () => {
    await r.orch(['mailbox', 'check', 'db']);
    const child = spawnOrch(['mailbox', 'watch', 'db', '--json'], { cwd: r.root, env: CLEAN_ENV });
    let buf = '';
    const got = new Promise<string>((resolve) => {
      child.stdout?.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(buf);
      });
    });
    // The watcher reads what is waiting at start, so the send may come before or after it is ready.
    await r.orch(['mailbox', 'send', 'db', 'ping', '--from', 'ui']);
    const line = await got;
    child.kill('SIGTERM');
    const res = await child;
    expect(JSON.parse(line.split('\n')[0] as string)).toMatchObject({ body: 'ping', from: 'ui', to: 'db' });
    expect(res.exitCode).toBe(0);
  });

  it('check marks a message read only after printing it: a checker killed midway loses none', async () => {
    const mb = new Mailbox(r.runDir, { tasks: ['api', 'ui', 'db'] });
    await mb.check('ui'); // start empty
    const sent: string[] = [];
    const pad = 'x'.repeat(400);
    for (let i = 0; i < 2000; i++) sent.push((await mb.send('ui', `m${i} ${pad}`, { from: 'db' })).id);

    // A slow reader: the pipe fills, the checker blocks in write, and is SIGKILLed midway.
    const child = spawn(process.execPath, [orchBin(), 'mailbox', 'check', 'ui'], {
      cwd: r.root,
      env: { ...process.env, ...CLEAN_ENV, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let killed = false;
    const ended = new Promise<void>((resolve) => child.stdout.on('end', resolve));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!killed && out.length > 200_000) {
        killed = true;
        child.kill('SIGKILL');
      }
      if (!killed) {
        child.stdout.pause();
        setTimeout(() => child.stdout.resume(), 5);
      }
    });
    await ended;
    expect(killed).toBe(true);

    const printed = new Set([...out.matchAll(/ #(\S+)\n/g)].map((m) => m[1]));
    const unread = new Set((await mb.unread('ui')).map((m) => m.id));
    // Killed midway: some were printed, some are left; none is in neither.
    expect(printed.size).toBeGreaterThan(0);
    expect(unread.size).toBeGreaterThan(0);
    expect(sent.filter((id) => !printed.has(id) && !unread.has(id))).toEqual([]);
    // The next check delivers the rest.
    const rest = JSON.parse((await r.orch(['mailbox', 'check', 'ui', '--json'])).stdout) as MailboxMessage[];
    expect(rest.map((m) => m.id).sort()).toEqual([...unread].sort());
    expect(await mb.peek('ui')).toBe(0);
  }, 120_000);

  it('prints bodies and names with control characters neutralised; --json stays exact', async () => {
    const evil = 'copy \u001b]52;c;ZWNobyBwd25lZA==\u0007 and clear \u001b[2J\u001b[H done\r\n\u009b31m';
    await r.orch(['mailbox', 'check', 'db']);
    await r.orch(['mailbox', 'send', 'db', evil, '--from', 'ui']);
    const history = await r.orch(['mailbox', 'history']);
    const check = await r.orch(['mailbox', 'check', 'db']);
    for (const text of [history.stdout, check.stdout]) {
      // eslint-disable-next-line no-control-regex -- control characters are what must not be printed
      expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      expect(text).toContain('copy  and clear  done\n\\x9b31m');
    }
    const json = JSON.parse((await r.orch(['mailbox', 'history', '--json'])).stdout) as MailboxMessage[];
    expect(json.at(-1)?.body).toBe(evil);
  });
});

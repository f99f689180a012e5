import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailboxMessage } from '@orch/core';
import { runRepo, type RunRepo } from './task-fixture.js';

let r: RunRepo;
// In-process: the commands need no terminal or supervisor (watch and a killed checker are in the e2e file).
beforeAll(async () => {
  r = await runRepo(undefined, { inProcess: true });
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

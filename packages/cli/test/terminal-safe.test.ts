import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent } from '@orch/store';
import { runRepo, type RunRepo } from './task-fixture.js';

// What a hostile worker prints to attack the user's terminal: a clipboard write and a screen clear.
const OSC52 = '\u001b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\u0007';
const CLEAR = '\u001b[2J';
const EVIL = `pwn${OSC52}ed${CLEAR}\u009b1m!`;
// eslint-disable-next-line no-control-regex -- control characters are what must not be printed
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

let r: RunRepo;
beforeAll(async () => {
  // In-process: the views' plain frames and the status need no terminal or tmux.
  r = await runRepo(undefined, { inProcess: true });
  await appendEvent(r.runDir, { type: 'task.progress', task: 'api', message: EVIL });
  await appendEvent(r.runDir, { type: 'task.attention', task: 'ui', reason: `decide ${CLEAR}now` });
  await appendEvent(r.runDir, { type: 'run.phase', phase: 'needs_attention', reason: `stuck ${OSC52}` });
});
afterAll(() => r.repo.cleanup());

describe('worker text in human output', () => {
  it('orch state status, orch wait and orch workers neutralise control characters', async () => {
    for (const args of [
      ['state', 'status'],
      ['wait', '--timeout', '0'],
      ['workers', '--once'],
    ]) {
      const res = await r.orch(args);
      expect(res.stdout, args.join(' ')).not.toMatch(CONTROL);
      expect(res.stdout.length).toBeGreaterThan(0);
    }
    const status = (await r.orch(['state', 'status'])).stdout;
    expect(status).toContain('pwned\\x9b1m!');
    expect(status).toContain('needs a decision: decide now');
    expect((await r.orch(['wait', '--timeout', '0'])).stdout).toContain('(stuck )');
  });

  it('--json stays exact', async () => {
    const j = JSON.parse((await r.orch(['state', 'status', '--json'])).stdout) as {
      reason: string;
      tasks: { id: string; lastMessage?: string }[];
    };
    expect(j.tasks.find((t) => t.id === 'api')?.lastMessage).toBe(EVIL);
    expect(j.reason).toBe(`stuck ${OSC52}`);
  });
});

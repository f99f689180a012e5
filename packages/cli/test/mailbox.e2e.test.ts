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

/** The built binary end to end: a streaming watcher, and a checker killed by a signal midway. */
describe('orch mailbox (the binary)', () => {
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
});

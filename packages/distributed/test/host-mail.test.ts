/**
 * Live mail to a worker on a host, across a real redis-server: the supervisor's side adds a
 * delivered message for the recipients' attempts, the host's side writes it into the attempt's
 * inbox, where the worker's own mailbox (the file `Mailbox` of its task channel) reads it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MailboxMessage, RunState } from '@orch/core';
import { Mailbox, runPaths, taskChannelPaths } from '@orch/store';
import { redisForFile } from './redis-store.js';
import { HostInbox, handedToHosts, mailToHost, mailToHosts } from '../src/host-mail.js';
import { keysFor } from '../src/keys.js';

const { connect } = redisForFile();
const keys = keysFor('hm');

let root: string;
let run: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'orch-host-mail-'));
  run = `r${randomBytes(4).toString('hex')}`;
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

let seq = 0;
function message(to: string, body: string, from = 'supervisor'): MailboxMessage {
  seq += 1;
  return {
    id: `m${seq}x${randomBytes(3).toString('hex')}`,
    from,
    to,
    ts: new Date().toISOString(),
    seq,
    type: 'info',
    body,
  };
}

/** A run state with just what mail routing reads: the tasks, their status and attempt. */
function state(tasks: Record<string, { status: string; attempt: number }>): RunState {
  return { run, order: Object.keys(tasks), tasks } as unknown as RunState;
}

/** The worker's own view of its inbox on the host (what `orch mailbox check` reads). */
function workerBox(task: string): Mailbox {
  return new Mailbox(runPaths(root, run).dir, { tasks: [task] });
}

const inboxOf = (task: string): string => taskChannelPaths(runPaths(root, run).dir, task).inbox;

describe('mail to a worker on a host', () => {
  it("reaches the attempt's inbox through Redis; a repeat is harmless; another attempt's is not delivered", async () => {
    const redis = await connect();
    const stale = message('api', 'for attempt 1');
    const live = message('api', 'keep /users paginated');
    const later = message('api', 'for attempt 3');
    await mailToHost(redis, keys, run, 'api', 1, stale);
    await mailToHost(redis, keys, run, 'api', 2, live);
    await mailToHost(redis, keys, run, 'api', 3, later);
    const host = new HostInbox(redis, keys, run, 'api', 2, inboxOf('api'));
    await host.pump();
    expect((await workerBox('api').check('api')).map((m) => m.body)).toEqual(['keep /users paginated']);
    // The earlier attempt's entry is gone, the later attempt's is left for its host.
    const left = await redis.xrange(keys.channelInbox(run, 'api'), '-', '+');
    expect(left.map(([, f]) => JSON.parse(f[3] as string) as MailboxMessage).map((m) => m.body)).toEqual([
      'for attempt 3',
    ]);
    // At least once: the same message again (a supervisor that crashed before it knew) is not new.
    await mailToHost(redis, keys, run, 'api', 2, live);
    await host.pump();
    expect(await workerBox('api').peek('api')).toBe(0);
  });

  it('goes to every recipient whose attempt is started and not finished, each with that attempt', async () => {
    const redis = await connect();
    const s = state({
      api: { status: 'running', attempt: 2 },
      web: { status: 'running', attempt: 1 },
      docs: { status: 'pending', attempt: 0 },
      old: { status: 'merged', attempt: 1 },
    });
    await mailToHosts(redis, keys, run, s, message('all', 'schema changed', 'api'));
    for (const [task, attempt] of [
      ['web', 1],
      ['api', 2],
    ] as const) {
      await new HostInbox(redis, keys, run, task, attempt, inboxOf(task)).pump();
    }
    expect((await workerBox('web').check('web')).map((m) => m.body)).toEqual(['schema changed']);
    // Not to the sender itself, and nothing waits for tasks that have no live attempt.
    expect(await workerBox('api').peek('api')).toBe(0);
    for (const t of ['api', 'docs', 'old']) expect(await redis.xlen(keys.channelInbox(run, t))).toBe(0);

    // The user's channel: a mailbox whose messages are handed to the hosts as they are sent.
    const sent: MailboxMessage[] = [];
    const box = handedToHosts(
      { send: async (to: string, body) => message(to, typeof body === 'string' ? body : body.body, 'user') },
      async (m) => {
        sent.push(m);
        await mailToHosts(redis, keys, run, s, m);
      },
    );
    await box.send('web', 'from the user', { from: 'user' });
    await new HostInbox(redis, keys, run, 'web', 1, inboxOf('web')).pump();
    expect((await workerBox('web').check('web')).map((m) => m.body)).toEqual(['from the user']);
    expect(sent).toHaveLength(1);
  });

  it('a worker that swapped its inbox folder for a link gets nothing written through it', async () => {
    const redis = await connect();
    const elsewhere = join(root, 'elsewhere');
    await mkdir(elsewhere);
    await mkdir(inboxOf('api'), { recursive: true });
    await symlink(elsewhere, join(inboxOf('api'), 'new'));
    await mailToHost(redis, keys, run, 'api', 1, message('api', 'hello'));
    await new HostInbox(redis, keys, run, 'api', 1, inboxOf('api')).pump();
    expect(await readdir(elsewhere)).toEqual([]);
  });
});

/**
 * Live mail to a worker on a host. When the supervisor delivers a message to the inbox of a task
 * whose attempt runs on a host, it also adds it to the task's inbox stream in Redis
 * (`keys.channelInbox`), with the attempt it is for. The host running that attempt writes each
 * message into the attempt's inbox in its task channel, where the worker's `orch mailbox check`
 * (and its agent's prompt hooks) read it as locally, and only then deletes the entry: delivery is
 * at least once, and the message's id (its file name) makes a repeat harmless. Entries for an
 * earlier attempt are dropped (that attempt's prompt, or the next one's, showed its unread mail).
 */
import { existsSync } from 'node:fs';
import { link, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MailboxMessage, traced, type RunState } from '@orch/core';
import { handMailOn } from '@orch/engine';
import { assertSafeName, dropPaths, pinDrop, writeNewFile, type Mailbox } from '@orch/store';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** Entries an inbox stream keeps at most (the host deletes what it wrote). */
const STREAM_MAX = 1_000;
/** Entries a host takes per pass. */
const BATCH = 100;

type Entries = [id: string, fields: string[]][];

function field(fields: string[], name: string): string | undefined {
  const i = fields.indexOf(name);
  return i >= 0 && i % 2 === 0 ? fields[i + 1] : undefined;
}

/** The supervisor's side: a message for the attempt `attempt` of `task`, to its host. */
export async function mailToHost(
  redis: Redis,
  keys: Keys,
  run: string,
  task: string,
  attempt: number,
  msg: MailboxMessage,
): Promise<void> {
  await redis.xadd(
    keys.channelInbox(run, task),
    'MAXLEN',
    '~',
    String(STREAM_MAX),
    '*',
    'attempt',
    String(attempt),
    'm',
    JSON.stringify(msg),
  );
}

/** Every recipient of a message just delivered in a distributed run, to its host (see `handMailOn`). */
export function mailToHosts(redis: Redis, keys: Keys, run: string, state: RunState, msg: MailboxMessage) {
  return handMailOn(
    { deliverMail: (task, attempt, m) => mailToHost(redis, keys, run, task, attempt, m) },
    state,
    msg,
  );
}

/** A mailbox whose every message is also handed to the hosts of its recipients (the user's channel). */
export function handedToHosts<M extends Pick<Mailbox, 'send'>>(
  mailbox: M,
  toHosts: (msg: MailboxMessage) => Promise<void>,
): Pick<Mailbox, 'send'> {
  return {
    send: async (...args) => {
      const msg = await mailbox.send(...args);
      await toHosts(msg).catch(traced('mail.toHosts'));
      return msg;
    },
  };
}

/** The host's side: the inbox of one attempt. */
export class HostInbox {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly run: string,
    private readonly task: string,
    private readonly attempt: number,
    /** The attempt's task channel's inbox (`new/`, `cur/`). */
    private readonly inbox: string,
  ) {}

  /** Writes every message waiting for this attempt into its inbox. */
  async pump(): Promise<void> {
    const key = this.keys.channelInbox(this.run, this.task);
    const entries = (await this.redis.xrange(key, '-', '+', 'COUNT', BATCH)) as Entries;
    for (const [id, fields] of entries) {
      const attempt = Number(field(fields, 'attempt'));
      // For a later attempt: this host's is stale (another host runs the task now); not ours to take.
      if (attempt > this.attempt) return;
      if (attempt === this.attempt) {
        const msg = parse(field(fields, 'm'));
        if (msg) await this.write(msg);
      }
      await this.redis.xdel(key, id);
    }
  }

  /**
   * One message as the file mailbox stores it (`new/<id>.json`, linked from a temporary file),
   * unless the worker has it already. The folders are opened first: a worker that swapped one for a
   * symlink cannot make the host write elsewhere (`pinDrop`).
   */
  private async write(msg: MailboxMessage): Promise<void> {
    const name = `${assertSafeName(msg.id, 'message id')}.json`;
    const pinned = await pinDrop(dropPaths(this.inbox));
    if (!pinned) return; // not made of plain directories: a worker's doing, nothing to write into
    try {
      const dir = pinned.paths.dir;
      if (existsSync(join(dir, 'cur', name)) || existsSync(join(pinned.paths.new, name))) return;
      const tmp = join(pinned.paths.tmp, `${msg.id}.${process.pid}.json`);
      await writeNewFile(tmp, JSON.stringify(msg));
      try {
        await link(tmp, join(pinned.paths.new, name)).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'EEXIST') throw e;
        });
      } finally {
        await rm(tmp, { force: true });
      }
    } finally {
      await pinned.close();
    }
  }
}

function parse(text: string | undefined): MailboxMessage | undefined {
  try {
    const p = MailboxMessage.safeParse(JSON.parse(text ?? 'null'));
    return p.success ? p.data : undefined;
  } catch {
    return undefined;
  }
}

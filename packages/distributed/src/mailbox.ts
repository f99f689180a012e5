/**
 * The mailbox of a distributed run, with the API of the file `Mailbox` (`@orch/store`) so commands
 * use either: a Redis stream per inbox read through one consumer group. Delivery is at least once:
 * a reader takes the inbox's lock, claims the new entries into the group's pending list, hands them
 * on, and `XACK`s each batch only after it was handed on; a reader that dies midway leaves its
 * batch pending, and the next reader delivers it again. Unread = pending or not yet claimed.
 * History is a stream of its own (a broadcast once).
 */
import { randomBytes } from 'node:crypto';
import { MailboxMessage, OrchError, type MailboxMessageInput } from '@orch/core';
import {
  MailboxRouting,
  assertSafeName,
  checkOutgoing,
  compareMessages,
  sealMessage,
  type Mailbox,
  type SendOptions,
  type WatchOptions,
} from '@orch/store';
import type { Redis } from 'ioredis';
import { blockingConnection } from './blocking.js';
import type { Keys } from './keys.js';

const GROUP = 'readers';
/** Readers take turns under the lock, so one consumer name serves them all. */
const CONSUMER = 'reader';
const LOCK_TTL_MS = 30_000;
const LOCK_WAIT_MS = 30_000;
const WATCH_BLOCK_MS = 1_000;
const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

type Entries = [id: string, fields: string[]][];
interface Entry {
  id: string;
  msg: MailboxMessage;
}

function parseEntry([id, fields]: [string, string[]]): Entry | undefined {
  try {
    const p = MailboxMessage.safeParse(JSON.parse(fields[fields.indexOf('m') + 1] ?? ''));
    return p.success ? { id, msg: p.data } : undefined;
  } catch {
    return undefined;
  }
}

/** Stream ids compare as (ms, seq) pairs. */
function idAfter(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am > bm || (am === bm && as > bs);
}

/** What commands use of a mailbox: the file `Mailbox` and `RedisMailbox` both offer it. */
export type MailboxApi = Pick<
  Mailbox,
  | 'tasks'
  | 'inboxes'
  | 'assertInbox'
  | 'send'
  | 'broadcast'
  | 'deliverUnread'
  | 'check'
  | 'markRead'
  | 'unread'
  | 'peek'
  | 'history'
  | 'watch'
>;

export class RedisMailbox extends MailboxRouting implements MailboxApi {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    readonly run: string,
    opts: { tasks: readonly string[] },
  ) {
    super(opts.tasks);
  }

  protected async deliver(
    to: string,
    recipients: string[],
    raw: MailboxMessageInput | string,
    opts: SendOptions,
  ): Promise<MailboxMessage> {
    const { from, input } = checkOutgoing(raw, opts);
    const seq = await this.redis.incr(this.keys.mailboxSeq(this.run, from));
    const ts = new Date().toISOString();
    const msg = sealMessage(input, { ...(opts.id ? { id: opts.id } : {}), from, to, ts, seq });
    // A given id is the supervisor's outbox item: a repeat after a crash delivers nothing twice.
    const fresh = await this.redis.sadd(this.keys.mailboxIds(this.run), msg.id);
    if (fresh === 0) {
      if (opts.id !== undefined) return msg;
      throw new OrchError('ERR_ORCH_INVALID_MESSAGE', `message id ${msg.id} was used before`, {
        hint: 'Send the message again; it gets a new id.',
      });
    }
    const body = JSON.stringify(msg);
    const tx = this.redis.multi();
    for (const r of recipients) tx.xadd(this.keys.inbox(this.run, r), '*', 'm', body);
    tx.xadd(this.keys.mailboxHistory(this.run), '*', 'm', body);
    await tx.exec();
    return msg;
  }

  private async ensureGroup(inbox: string): Promise<string> {
    const key = this.keys.inbox(this.run, inbox);
    await this.redis.xgroup('CREATE', key, GROUP, '0', 'MKSTREAM').catch((e: Error) => {
      if (!/BUSYGROUP/.test(e.message)) throw e;
    });
    return key;
  }

  private async withInboxLock<T>(inbox: string, fn: (key: string) => Promise<T>): Promise<T> {
    const key = await this.ensureGroup(inbox);
    const lock = this.keys.inboxLock(this.run, inbox);
    const token = randomBytes(12).toString('hex');
    const deadline = Date.now() + LOCK_WAIT_MS;
    while ((await this.redis.set(lock, token, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') {
      if (Date.now() > deadline) {
        throw new OrchError('ERR_ORCH_LOCK_TIMEOUT', `the inbox ${inbox} stayed locked by another reader`, {
          hint: 'Another `orch mailbox check` of this inbox is running; wait for it, or retry.',
        });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    try {
      return await fn(key);
    } finally {
      await this.redis.eval(UNLOCK, 1, lock, token);
    }
  }

  /** Claims every new entry into the group's pending list, then returns that list, oldest first. */
  private async claimAll(key: string): Promise<Entry[]> {
    await this.redis.xreadgroup('GROUP', GROUP, CONSUMER, 'STREAMS', key, '>');
    const res = (await this.redis.xreadgroup('GROUP', GROUP, CONSUMER, 'STREAMS', key, '0')) as
      [string, Entries][] | null;
    const out: Entry[] = [];
    for (const e of res?.[0]?.[1] ?? []) {
      const parsed = parseEntry(e);
      // An entry that is not a message is acked away so it does not count as unread for ever.
      if (parsed) out.push(parsed);
      else await this.redis.xack(key, GROUP, e[0]);
    }
    return out.sort((a, b) => compareMessages(a.msg, b.msg));
  }

  /** As the file mailbox: hands unread messages on in batches, acking each after `deliver` resolved. */
  async deliverUnread(
    inbox: string,
    deliver: (batch: MailboxMessage[]) => Promise<void>,
    opts: { batch?: number } = {},
  ): Promise<MailboxMessage[]> {
    this.assertInbox(inbox);
    const size = Math.max(1, opts.batch ?? Number.POSITIVE_INFINITY);
    return this.withInboxLock(inbox, async (key) => {
      const entries = await this.claimAll(key);
      const out: MailboxMessage[] = [];
      for (let i = 0; i < entries.length; i += size) {
        const part = entries.slice(i, i + size);
        await deliver(part.map((e) => e.msg));
        await this.redis.xack(key, GROUP, ...part.map((e) => e.id));
        out.push(...part.map((e) => e.msg));
      }
      return out;
    });
  }

  async check(inbox: string): Promise<MailboxMessage[]> {
    return this.deliverUnread(inbox, async () => {});
  }

  async markRead(inbox: string, ids: readonly string[]): Promise<void> {
    this.assertInbox(inbox);
    for (const id of ids) assertSafeName(id, 'message id');
    const want = new Set(ids);
    await this.withInboxLock(inbox, async (key) => {
      const hit = (await this.claimAll(key)).filter((e) => want.has(e.msg.id)).map((e) => e.id);
      if (hit.length > 0) await this.redis.xack(key, GROUP, ...hit);
    });
  }

  async unread(inbox: string): Promise<MailboxMessage[]> {
    this.assertInbox(inbox);
    const key = await this.ensureGroup(inbox);
    const groups = (await this.redis.xinfo('GROUPS', key)) as (string | number)[][];
    const g = groups.find((row) => row[row.indexOf('name') + 1] === GROUP) ?? [];
    const lastDelivered = String(g[g.indexOf('last-delivered-id') + 1] ?? '0-0');
    const pending = (await this.redis.xpending(key, GROUP, '-', '+', 10_000)) as [string, ...unknown[]][];
    const pendingIds = new Set(pending.map((p) => p[0]));
    const all = (await this.redis.xrange(key, '-', '+')) as Entries;
    const out: MailboxMessage[] = [];
    for (const e of all) {
      if (!pendingIds.has(e[0]) && !idAfter(e[0], lastDelivered)) continue;
      const parsed = parseEntry(e);
      if (parsed) out.push(parsed.msg);
    }
    return out.sort(compareMessages);
  }

  async peek(inbox: string): Promise<number> {
    return (await this.unread(inbox)).length;
  }

  async history(): Promise<MailboxMessage[]> {
    const all = (await this.redis.xrange(this.keys.mailboxHistory(this.run), '-', '+')) as Entries;
    return all
      .map(parseEntry)
      .filter((e): e is Entry => e !== undefined)
      .map((e) => e.msg)
      .sort(compareMessages);
  }

  /** Yields messages as they arrive (waiting ones first), woken by a blocking XREAD, until `signal` aborts. */
  async *watch(inbox: string, opts: WatchOptions = {}): AsyncGenerator<MailboxMessage> {
    this.assertInbox(inbox);
    const consume = opts.consume ?? true;
    const key = await this.ensureGroup(inbox);
    const waiter = blockingConnection(this.redis);
    const onAbort = (): void => waiter.disconnect();
    opts.signal?.addEventListener('abort', onAbort);
    const seen = new Set<string>();
    let tip = '$';
    try {
      while (!opts.signal?.aborted) {
        const last = (await this.redis.xrevrange(key, '+', '-', 'COUNT', 1)) as Entries;
        tip = last[0]?.[0] ?? '0-0';
        for (const m of await this.unread(inbox)) {
          if (seen.has(m.id)) continue;
          seen.add(m.id);
          yield m;
          if (consume) await this.markRead(inbox, [m.id]);
        }
        if (opts.signal?.aborted) break;
        await waiter.xread('BLOCK', WATCH_BLOCK_MS, 'STREAMS', key, tip).catch(() => null);
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      waiter.disconnect();
    }
  }
}

/**
 * The user's outbox of a distributed run: what `orch task …` and `orch mailbox send` hand a live
 * supervisor from any machine, as the run folder's user outbox does on one. Each item is an entry
 * of a stream (signed with the user token, which only a holder of the run's key can make); the
 * supervisor reads them, checks each as untrusted input (`OutboxItem`, size, token), journals or
 * delivers it, pushes its verdict on the item's ack list, and deletes the entry. The sender blocks
 * on that list for a bounded time.
 */
import {
  OUTBOX_ITEM_MAX_BYTES,
  OrchError,
  OutboxAck,
  OutboxItem,
  sameSecret,
  type RunEvent,
  type RunEventInput,
  type RunState,
} from '@orch/core';
import { USER_CHANNEL, acceptItem, type DepsDecision, type Verdict } from '@orch/engine';
import { userToken, type Mailbox } from '@orch/store';
import type { Redis } from 'ioredis';
import { blockingConnection } from './blocking.js';
import type { Keys } from './keys.js';

type Entries = [id: string, fields: string[]][];

/** A verdict waits this long for its sender, then Redis forgets it. */
const ACK_TTL_S = 3600;

/** One entry as the supervisor reads it: a valid item, or why it is not one. */
export type UserOutboxEntry = { ok: true; item: OutboxItem } | { ok: false; reason: string };

export class RedisUserOutbox {
  private readonly stream: string;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    readonly run: string,
  ) {
    this.stream = keys.userOutbox(run);
  }

  /** Hands an item to the supervisor (the user's side). */
  async drop(item: OutboxItem): Promise<void> {
    const data = JSON.stringify(OutboxItem.parse(item));
    if (Buffer.byteLength(data, 'utf8') > OUTBOX_ITEM_MAX_BYTES) {
      throw new OrchError(
        'ERR_ORCH_INVALID_VALUE',
        `the report is larger than ${OUTBOX_ITEM_MAX_BYTES} bytes`,
        {
          hint: 'Send a shorter message; point to a file of the repository for long content.',
        },
      );
    }
    await this.redis.xadd(this.stream, '*', 'i', data);
  }

  /** The supervisor's verdict on item `id`, waiting at most `timeoutMs`; undefined when none came. */
  async waitForAck(id: string, timeoutMs: number): Promise<OutboxAck | undefined> {
    const conn = blockingConnection(this.redis);
    try {
      const got = await conn.blpop(this.keys.userAck(this.run, id), Math.max(0.01, timeoutMs / 1000));
      if (!got) return undefined;
      const p = OutboxAck.safeParse(JSON.parse(got[1]));
      return p.success ? p.data : undefined;
    } finally {
      conn.disconnect();
    }
  }

  /**
   * The supervisor's side: hands every waiting entry, oldest first, to `handle`, pushes the verdict
   * it returns (when the item asked for one), and only then deletes the entry, so an entry whose
   * handling was cut short by a crash is read again (item ids make a repeat harmless). Returns the
   * number of entries taken.
   */
  async take(handle: (entry: UserOutboxEntry) => Promise<OutboxAck | undefined>): Promise<number> {
    const page = (await this.redis.xrange(this.stream, '-', '+', 'COUNT', 100)) as Entries;
    for (const [entryId, fields] of page) {
      const verdict = await handle(parseItem(fields));
      if (verdict) {
        await this.redis
          .multi()
          .rpush(this.keys.userAck(this.run, verdict.id), JSON.stringify(verdict))
          .expire(this.keys.userAck(this.run, verdict.id), ACK_TTL_S)
          .exec();
      }
      await this.redis.xdel(this.stream, entryId);
    }
    return page.length;
  }
}

function parseItem(fields: string[]): UserOutboxEntry {
  const raw = fields[fields.indexOf('i') + 1];
  if (raw === undefined) return { ok: false, reason: 'an entry without an item' };
  if (Buffer.byteLength(raw, 'utf8') > OUTBOX_ITEM_MAX_BYTES)
    return { ok: false, reason: `larger than ${OUTBOX_ITEM_MAX_BYTES} bytes` };
  try {
    const p = OutboxItem.safeParse(JSON.parse(raw));
    return p.success
      ? { ok: true, item: p.data }
      : { ok: false, reason: `not a valid item: ${p.error.message}` };
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
}

export interface ServeUserOutboxOptions {
  /** The run's key: the user token is derived from it. */
  key: Buffer;
  state(): RunState;
  append(ev: RunEventInput): Promise<RunEvent>;
  /** Where the user's mail goes (the run's `RedisMailbox`). */
  mailbox: Pick<Mailbox, 'send'>;
  /** Ids of items already journaled (from the log's `item` fields, then as they are taken). */
  seen: Set<string>;
  /** A refused item's reason, for the supervisor to journal (`worker.rejected`). */
  onRefused?(reason: string, kind?: string): Promise<void>;
  /** Carries out the user's dependency decision (`orch deps approve|deny --store`). */
  deps?: DepsHandler;
}

/** The supervisor's handler of a dependency decision: `item` is its id, `mailbox` where mail goes. */
export type DepsHandler = (
  decision: DepsDecision,
  ctx: { item: string; mailbox: Pick<Mailbox, 'send'> },
) => Promise<Verdict>;

/**
 * What a distributed supervisor's intake calls for the user's channel (as the file intake does for
 * the run folder's user outbox): takes every waiting item, checks the user token, journals or
 * delivers it with the same rules (`acceptItem`), and answers the sender. An item seen before (a
 * crash between journaling and deleting) is answered without being recorded twice.
 */
export async function serveUserOutbox(
  outbox: RedisUserOutbox,
  opts: ServeUserOutboxOptions,
): Promise<number> {
  const token = userToken(opts.key);
  return outbox.take(async (entry) => {
    if (!entry.ok) {
      await opts.onRefused?.(entry.reason);
      return undefined;
    }
    const item = entry.item;
    if (opts.seen.has(item.id))
      return item.ack ? { id: item.id, ok: true, detail: 'recorded before' } : undefined;
    const signed = sameSecret(item.token, token);
    const verdict: Verdict = !signed
      ? { ok: false, detail: 'the token is not the user token' }
      : item.body.kind === 'deps'
        ? opts.deps
          ? await opts.deps(item.body, { item: item.id, mailbox: opts.mailbox })
          : { ok: false, detail: 'this supervisor does not carry out dependency decisions' }
        : await acceptItem('', opts.state(), USER_CHANNEL, item, (ev) => opts.append(ev), opts.mailbox);
    opts.seen.add(item.id);
    // A decision the user made that could not be carried out is the user's answer, not a forgery.
    if (!verdict.ok && !(signed && item.body.kind === 'deps'))
      await opts.onRefused?.(verdict.detail, item.body.kind);
    return item.ack ? { id: item.id, ...verdict } : undefined;
  });
}

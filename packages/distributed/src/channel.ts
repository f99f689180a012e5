/**
 * A task's channel across machines. On a host, the worker drops its reports, usage, exit and mail
 * into its task channel's outbox as it does locally; the host's `HostChannel` moves each item to a
 * Redis stream of the task (`keys.channel`). On the supervisor's machine, `ChannelBridge` moves the
 * stream's items into the supervisor's own task channel, where the intake reads them with every
 * check it makes of a local worker (token, task, schema, state): nothing is trusted for having
 * crossed Redis. The intake's verdicts (acks) go back the same way (`keys.channelAcks`).
 *
 * Every entry a host adds is signed with its identity (`host-identity.ts`) over what it says and
 * the run, task and attempt; the bridge takes an entry only with the signature of a trusted host,
 * and an item only from the host the attempt is placed on. Anything else (anyone else with the
 * store's password) is dropped and reported (`onForged`), never handed to the intake.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { OutboxAck, OutboxItem, traced } from '@orch/core';
import {
  dropItem,
  listDropped,
  readDropped,
  removeDropped,
  taskChannelPaths,
  writeAck,
  type DropPaths,
} from '@orch/store';
import type { Redis } from 'ioredis';
import { signFields, verifyFields, type HostIdentity, type HostPublicIdentity } from './host-identity.js';
import type { Keys } from './keys.js';

/** Entries a channel stream keeps at most (the supervisor deletes what it took). */
const STREAM_MAX = 10_000;
const BLOCK_MS = 1_000;
const ACK_POLL_MS = 250;

type Entries = [id: string, fields: string[]][];

/** An outbox item saying the worker's wrapper saw its agent end. */
export type ExitedItem = OutboxItem & { body: Extract<OutboxItem['body'], { kind: 'exited' }> };

function field(fields: string[], name: string): string | undefined {
  const i = fields.indexOf(name);
  return i >= 0 && i % 2 === 0 ? fields[i + 1] : undefined;
}

/** What a host signs for a `placed` entry and for an item (the item's JSON as sent). */
export function placedFields(run: string, task: string, attempt: number, host: string): string[] {
  return ['placed', run, task, String(attempt), host];
}
export function itemFields(run: string, task: string, attempt: number, host: string, item: string): string[] {
  return ['item', run, task, String(attempt), host, item];
}

/** The host's end of one attempt's channel. */
export class HostChannel {
  private lastAck = '0-0';
  private attempt = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly run: string,
    private readonly task: string,
    private readonly drop: DropPaths,
    /** Called before a `done` report is sent on: the work it reports must be on the remote first. */
    private readonly beforeDone: () => Promise<void>,
    /** Sees each `exited` item sent on (the host reads the rate limit an attempt ran into). */
    private readonly onExited: ((item: ExitedItem) => void) | undefined,
    /** The host's identity: every entry carries its signature. */
    private readonly me: HostIdentity,
  ) {}

  /** Tells the supervisor which host took the attempt (the items after it are that attempt's). */
  async placed(host: string, attempt: number): Promise<void> {
    this.attempt = attempt;
    const sig = signFields(this.me, placedFields(this.run, this.task, attempt, host));
    await this.send('placed', host, 'attempt', String(attempt), 'sig', sig);
  }

  /** One entry on the task's channel stream, which keeps about its last STREAM_MAX entries. */
  private async send(...fields: string[]): Promise<void> {
    await this.redis.xadd(
      this.keys.channel(this.run, this.task),
      'MAXLEN',
      '~',
      String(STREAM_MAX),
      '*',
      ...fields,
    );
  }

  /** Sends every item waiting in the outbox, and writes the verdicts that came back. */
  async pump(): Promise<void> {
    for (const name of await listDropped(this.drop)) {
      const read = await readDropped(this.drop, name);
      if (read.ok) {
        const body = read.item.body;
        if (body.kind === 'done') await this.beforeDone();
        if (body.kind === 'exited') this.onExited?.({ ...read.item, body });
        const text = JSON.stringify(read.item);
        const host = this.me.public.name;
        const sig = signFields(this.me, itemFields(this.run, this.task, this.attempt, host, text));
        await this.send('i', text, 'host', host, 'attempt', String(this.attempt), 'sig', sig);
      }
      // Not an item (a worker's garbage): the supervisor would refuse it; it goes no further.
      await removeDropped(this.drop, name);
    }
    const key = this.keys.channelAcks(this.run, this.task);
    const acks = (await this.redis.xrange(key, `(${this.lastAck}`, '+')) as Entries;
    for (const [id, fields] of acks) {
      this.lastAck = id;
      const p = OutboxAck.safeParse(JSON.parse(field(fields, 'a') ?? 'null'));
      if (p.success) await writeAck(this.drop, p.data).catch(traced('host.channel.ack'));
      await this.redis.xdel(key, id);
    }
  }
}

export interface ChannelBridgeOptions {
  redis: Redis;
  keys: Keys;
  run: string;
  /** The supervisor's run directory (its task channels). */
  runDir: string;
  /** The run's tasks (the plan may grow). */
  tasks: () => readonly string[];
  /** Called before a `done` or `exited` item is handed to the intake: fetch the task's branch. */
  beforeReport: (task: string) => Promise<void>;
  /** A host took the attempt; false to be asked again later (its `task.started` is not journaled yet). */
  onPlaced: (task: string, attempt: number, host: string) => Promise<boolean>;
  /** The hosts the run trusts: only their signed entries are taken. */
  trusted: ReadonlyMap<string, HostPublicIdentity>;
  /** The host the journal says the task's current attempt is placed on. */
  placedOn: (task: string) => { attempt: number; host?: string } | undefined;
  /** An entry refused as not a trusted host's own (it is dropped, never acted on). */
  onForged: (task: string, reason: string) => Promise<void>;
}

/** The supervisor's end of every task channel of a run. */
export class ChannelBridge {
  private conn: Redis | undefined;
  private turn: Promise<unknown> = Promise.resolve();
  /** Items that asked for a verdict, by id: their task. */
  private readonly waiting = new Map<string, string>();
  private ackTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: ChannelBridgeOptions) {}

  /** Follows the channels on a connection of its own until `close`. */
  start(): void {
    if (this.conn) return;
    const conn = this.o.redis.duplicate();
    conn.on('error', traced('bridge.conn'));
    this.conn = conn;
    const loop = async (): Promise<void> => {
      while (this.conn === conn) {
        try {
          const keys = this.o.tasks().map((t) => this.o.keys.channel(this.o.run, t));
          const got = await conn.xread('BLOCK', BLOCK_MS, 'STREAMS', ...keys, ...keys.map(() => '0-0'));
          if (got && this.conn === conn) {
            await this.pull();
            // What is kept for later stays in the stream: no spinning on it.
            await new Promise((r) => setTimeout(r, 100).unref());
          }
        } catch (e) {
          if (this.conn !== conn) return;
          traced('bridge.follow')(e);
          await new Promise((r) => setTimeout(r, 200).unref());
        }
      }
    };
    void loop();
    this.ackTimer = setInterval(() => void this.sendAcks().catch(traced('bridge.acks')), ACK_POLL_MS);
    this.ackTimer.unref();
  }

  /** Hands every item waiting in the channels (of `task`, or all) to the intake now. */
  pull(task?: string): Promise<void> {
    const next = this.turn.then(() => this.pullNow(task));
    this.turn = next.catch(traced('bridge.pull'));
    return next;
  }

  private async pullNow(only?: string): Promise<void> {
    for (const task of only ? [only] : this.o.tasks()) {
      const key = this.o.keys.channel(this.o.run, task);
      const entries = (await this.o.redis.xrange(key, '-', '+', 'COUNT', 500)) as Entries;
      for (const [id, fields] of entries) {
        if (!(await this.take(task, fields))) break; // kept for later: the rest waits behind it
        await this.o.redis.xdel(key, id);
      }
    }
  }

  /** Drops an entry that is not a trusted host's own, and says so. */
  private async forged(task: string, reason: string): Promise<true> {
    traced('bridge.forged')(new Error(`task ${task}: ${reason}`));
    await this.o.onForged(task, reason);
    return true;
  }

  /** The trusted host that signed these fields, or why none did. */
  private signer(host: string | undefined, fields: string[], sig: string | undefined): string | undefined {
    const id = host === undefined ? undefined : this.o.trusted.get(host);
    if (!id) return `host ${JSON.stringify(host ?? '')} is not trusted`;
    if (sig === undefined || !verifyFields(id, fields, sig)) return `its signature is not host ${host}'s`;
    return undefined;
  }

  /** True when the entry was handled (and can go). */
  private async take(task: string, fields: string[]): Promise<boolean> {
    const run = this.o.run;
    const attempt = Number(field(fields, 'attempt'));
    const placed = field(fields, 'placed');
    if (placed !== undefined) {
      if (!Number.isInteger(attempt)) return true;
      const bad = this.signer(placed, placedFields(run, task, attempt, placed), field(fields, 'sig'));
      if (bad) return this.forged(task, `a placed entry refused: ${bad}`);
      return this.o.onPlaced(task, attempt, placed);
    }
    const text = field(fields, 'i') ?? 'null';
    const host = field(fields, 'host');
    const bad = Number.isInteger(attempt)
      ? this.signer(host, itemFields(run, task, attempt, host ?? '', text), field(fields, 'sig'))
      : 'it names no attempt';
    if (bad) return this.forged(task, `an item refused: ${bad}`);
    let item: OutboxItem;
    try {
      const p = OutboxItem.safeParse(JSON.parse(text));
      if (!p.success) return true;
      item = p.data;
    } catch {
      return true;
    }
    if (item.attempt !== attempt) {
      return this.forged(
        task,
        `an item refused: it is signed for attempt ${attempt}, not ${item.attempt ?? 'none'}`,
      );
    }
    // Only the host the attempt is placed on speaks for it (an earlier attempt's is stale anyway).
    const on = this.o.placedOn(task);
    if (on && on.attempt === attempt && on.host !== undefined && on.host !== host) {
      return this.forged(task, `an item refused: attempt ${attempt} is placed on ${on.host}, not ${host}`);
    }
    if (item.body.kind === 'done' || item.body.kind === 'exited') await this.o.beforeReport(task);
    const channel = taskChannelPaths(this.o.runDir, task);
    try {
      await dropItem(channel.outbox, item);
    } catch (e) {
      // Handed over already (a repeat after a crash): the intake drops what it journaled.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (item.ack) this.waiting.set(item.id, task);
    return true;
  }

  /** Sends the intake's verdicts back to the hosts. */
  private async sendAcks(): Promise<void> {
    for (const [id, task] of this.waiting) {
      const file = join(taskChannelPaths(this.o.runDir, task).outbox.ack, `${id}.json`);
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      await this.o.redis.xadd(
        this.o.keys.channelAcks(this.o.run, task),
        'MAXLEN',
        '~',
        String(STREAM_MAX),
        '*',
        'a',
        text,
      );
      await rm(file, { force: true });
      this.waiting.delete(id);
    }
  }

  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    if (this.ackTimer) clearInterval(this.ackTimer);
    conn?.disconnect();
    await this.turn;
  }
}

/**
 * The supervisor's intake: the only way what workers say reaches the journal. Each task channel's
 * outbox (and the run's user outbox) is watched (fs.watch, plus a bounded re-scan); every item is
 * read as untrusted input and checked — the token of that task's attempt, the channel's own task,
 * a kind workers may send, the schema and sizes, the task's state — then journaled (or delivered,
 * for mail) and deleted. An item is deleted only after its event is journaled; the event carries
 * the item's id, so an item seen again after a crash is dropped. A refused item is journaled as
 * `worker.rejected` with the reason, at most a few per channel and minute.
 */
import { watch as fsWatch, mkdirSync, type FSWatcher } from 'node:fs';
import {
  MAILBOX_ALL,
  OrchError,
  checkTaskEvent,
  sameSecret,
  type MailboxMessage,
  type OutboxItem,
  type RunEvent,
  type RunEventInput,
  type RunState,
  traced,
} from '@orch/core';
import {
  Mailbox,
  dropPaths,
  ensureRunKey,
  listDropped,
  pinDrop,
  readDropped,
  readEvents,
  removeDropped,
  runDirPaths,
  taskChannelPaths,
  taskToken,
  userToken,
  writeAck,
  type DropPaths,
} from '@orch/store';
import type { WorkerRuntime } from '../ports/worker-runtime.js';

/** The channel of the user's own commands (not a task id: reserved). */
export const USER_CHANNEL = 'user';

const FINISHED = new Set(['merged', 'cancelled', 'failed']);
const RESCAN_MS = 1_000;
/** Refusals journaled per channel and minute; the rest are counted in the next one. */
const REJECTS_PER_MINUTE = 5;
/** Items accepted per channel: a burst, then a steady rate (a flood must not fill the journal). */
const BURST = 200;
const PER_SECOND = 5;

export interface Verdict {
  ok: boolean;
  detail: string;
  result?: unknown;
}

/**
 * What an authenticated item means: the events to journal (or the mail to deliver), checked
 * against the run's state. `channel` is the task the item speaks for, or USER_CHANNEL.
 * Shared by the supervisor's intake and the user's commands when no supervisor runs. `mailbox` is
 * where mail goes (default: the run folder's; a distributed run's is in Redis).
 */
export async function acceptItem(
  runDir: string,
  state: RunState,
  channel: string,
  item: OutboxItem,
  append: (ev: RunEventInput) => Promise<RunEvent>,
  mailbox?: Pick<Mailbox, 'send'>,
): Promise<Verdict> {
  const fromUser = channel === USER_CHANNEL;
  const task = fromUser ? item.task : channel;
  const body = item.body;
  const meta = { item: item.id };
  if (body.kind === 'mail')
    return deliverMail(
      mailbox ?? new Mailbox(runDir, { tasks: state.order }),
      state,
      fromUser,
      task,
      item,
      append,
    );
  // Carried out by the supervisor itself (installing on staging), never journaled from an item.
  if (body.kind === 'deps')
    return { ok: false, detail: 'a dependency decision is carried out only by a distributed supervisor' };
  if (!task) return { ok: false, detail: 'the report names no task' };
  const t = state.tasks[task];
  if (!t) return { ok: false, detail: `task ${JSON.stringify(task)} is not part of run ${state.run}` };
  if (FINISHED.has(t.status)) {
    // The wrapper's last usage and exit arrive after the supervisor ended the session: not news.
    if (!fromUser && (body.kind === 'activity' || body.kind === 'exited'))
      return { ok: true, detail: `task ${task} is already ${t.status}; nothing recorded` };
    return { ok: false, detail: `task ${task} is already ${t.status}` };
  }
  if (fromUser && (body.kind === 'activity' || body.kind === 'exited'))
    return { ok: false, detail: `${body.kind} reports come only from a worker's wrapper` };
  const at = new Date().toISOString();
  const evidence = {
    source: 'status-command' as const,
    at,
    detail: fromUser ? 'reported by the user' : `reported by the worker (attempt ${item.attempt})`,
  };
  let ev: RunEventInput;
  switch (body.kind) {
    case 'progress':
      ev = { ...meta, type: 'task.progress', task, message: body.message };
      break;
    case 'done':
      ev = {
        ...meta,
        type: 'task.reported',
        task,
        status: 'done',
        ...(body.summary !== undefined ? { summary: body.summary } : {}),
        evidence,
      };
      break;
    case 'fail':
      ev = { ...meta, type: 'task.reported', task, status: 'failed', reason: body.reason, evidence };
      break;
    case 'block':
      ev = {
        ...meta,
        type: 'task.reported',
        task,
        status: 'blocked',
        needs: body.needs,
        reason: body.reason,
        evidence,
      };
      break;
    case 'activity':
      ev = {
        ...meta,
        type: 'task.activity',
        task,
        ...(body.usage ? { usage: body.usage } : {}),
        ...(body.activity ? { activity: body.activity } : {}),
      };
      break;
    case 'exited':
      ev = {
        ...meta,
        type: 'task.exited',
        task,
        attempt: item.attempt as number,
        exitCode: body.exitCode,
        ...(body.result ? { result: body.result } : {}),
        ...(body.rateLimit ? { rateLimit: body.rateLimit } : {}),
        evidence: { source: body.source, at, detail: body.detail },
      };
      break;
  }
  // The lifecycle table has the last word (e.g. a report after the attempt's deadline fired).
  const legal = checkTaskEvent(t, ev);
  if (!legal.ok) return { ok: false, detail: legal.reason };
  const written = await append(ev);
  return { ok: true, detail: `recorded ${body.kind} for task ${task}`, result: written };
}

async function deliverMail(
  mb: Pick<Mailbox, 'send'>,
  state: RunState,
  fromUser: boolean,
  task: string | undefined,
  item: OutboxItem,
  append: (ev: RunEventInput) => Promise<RunEvent>,
): Promise<Verdict> {
  const body = item.body as Extract<OutboxItem['body'], { kind: 'mail' }>;
  // A worker's messages are from its own task, whatever it claims; only the user may name a sender.
  const from = fromUser ? (body.from ?? USER_CHANNEL) : (task as string);
  if (!fromUser && body.from !== undefined && body.from !== from)
    return { ok: false, detail: `a worker of ${from} cannot send as ${JSON.stringify(body.from)}` };
  const input = body.message;
  if (input.type === 'blocked-on') {
    const why = cannotWait(state, from, input.task);
    if (why) return { ok: false, detail: `${from} cannot wait for ${input.task}: ${why}` };
  }
  let msg: MailboxMessage;
  try {
    msg = await mb.send(body.to, input, { from, id: `m${item.id}` });
  } catch (e) {
    if (e instanceof OrchError) return { ok: false, detail: `${e.code}: ${e.message}` };
    throw e;
  }
  const note = await journalTyped(state, msg, item.id, append);
  return { ok: true, detail: `sent ${msg.id} to ${msg.to}${note ? ` (${note})` : ''}`, result: msg };
}

/** Why `from` may not wait for `on`, or undefined: only a task, for another that does not wait for it. */
export function cannotWait(state: RunState, from: string, on: string): string | undefined {
  if (!state.tasks[from]) return 'only a task of the run can be paused';
  if (!state.tasks[on]) return `${on} is not a task of run ${state.run}`;
  if (on === from) return 'a task cannot wait for itself';
  const seen = new Set<string>();
  const dependsOnFrom = (id: string): boolean => {
    if (seen.has(id)) return false;
    seen.add(id);
    const deps = state.tasks[id]?.dependsOn ?? [];
    return deps.includes(from) || deps.some(dependsOnFrom);
  };
  if (dependsOnFrom(on)) return `${on} depends on ${from}, so waiting would never end`;
  return undefined;
}

/**
 * Typed messages the supervisor acts on become journal events: `blocked-on` pauses the sender until
 * the named task is merged, `needs-decision` marks the sender with an open question.
 */
async function journalTyped(
  state: RunState,
  msg: MailboxMessage,
  item: string,
  append: (ev: RunEventInput) => Promise<RunEvent>,
): Promise<string | undefined> {
  const sender = state.tasks[msg.from];
  if (!sender || FINISHED.has(sender.status)) return undefined;
  if (msg.type === 'blocked-on') {
    if (state.tasks[msg.task]?.status === 'merged') return `${msg.task} is merged already; no pause`;
    const ev = {
      item,
      type: 'task.blocked' as const,
      task: msg.from,
      reason: `waits for ${msg.task}: ${msg.body}`,
      on: msg.task,
    };
    const legal = checkTaskEvent(sender, ev);
    if (!legal.ok) return `no pause: ${legal.reason}`;
    await append(ev);
    return `${msg.from} is paused until ${msg.task} is merged`;
  }
  if (msg.type === 'needs-decision') {
    await append({ item, type: 'task.attention', task: msg.from, reason: msg.question });
    return 'shown to people in the dashboard and `orch state status`';
  }
  return undefined;
}

interface Bucket {
  tokens: number;
  at: number;
}

export interface IntakeHost {
  runDir: string;
  state(): RunState;
  append(ev: RunEventInput): Promise<RunEvent>;
  /** The attempt launched most recently per task (it may not be journaled yet). */
  launched: ReadonlyMap<string, number>;
  onError?(e: unknown): void;
  /** A worker's message was delivered (see `handMailOn`). */
  onMail?(msg: MailboxMessage): Promise<void>;
}

/**
 * The tasks a delivered message is for whose attempt may still read it (started, not finished),
 * each with that attempt: the one launched last, which may not be journaled yet.
 */
export function mailRecipients(
  state: RunState,
  msg: Pick<MailboxMessage, 'from' | 'to'>,
  launched?: ReadonlyMap<string, number>,
): { task: string; attempt: number }[] {
  const to = msg.to === MAILBOX_ALL ? state.order.filter((t) => t !== msg.from) : [msg.to];
  return to.flatMap((task) => {
    const t = state.tasks[task];
    if (!t || FINISHED.has(t.status)) return [];
    const attempt = Math.max(t.attempt, launched?.get(task) ?? 0);
    return attempt > 0 ? [{ task, attempt }] : [];
  });
}

/**
 * A message just put in task inboxes (the supervisor's task channels), handed to where each
 * recipient's attempt runs when that is elsewhere (a host: `WorkerRuntime.deliverMail`). A message
 * that cannot be handed on now is still in the inbox, and the next attempt's prompt shows it.
 */
export async function handMailOn(
  workers: Pick<WorkerRuntime, 'deliverMail'>,
  state: RunState,
  msg: MailboxMessage,
  launched?: ReadonlyMap<string, number>,
): Promise<void> {
  if (!workers.deliverMail) return;
  for (const r of mailRecipients(state, msg, launched))
    await workers.deliverMail(r.task, r.attempt, msg).catch(traced('intake.handMailOn'));
}

export class Intake {
  private readonly watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | undefined;
  private key: Buffer | undefined;
  /** Ids of items already journaled (from the journal at start, then as they are processed). */
  private readonly seen = new Set<string>();
  private readonly accepted = new Map<string, Bucket>();
  private readonly rejects = new Map<string, { window: number; count: number; dropped: number }>();
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  /** Channels whose watch fired since the last pass; every channel after a rescan or a `drain`. */
  private woken = new Set<string>();
  private wokenAll = false;

  constructor(private readonly host: IntakeHost) {}

  async start(): Promise<void> {
    this.key = await ensureRunKey(this.host.runDir);
    for (const ev of (await readEvents(this.host.runDir)).events) if (ev.item) this.seen.add(ev.item);
    this.timer = setInterval(() => this.poke(), RESCAN_MS);
    this.timer.unref();
    await this.drain();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  /** Resolves when no pass is running (after `close`, none starts again). */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(traced('intake.idle'));
  }

  /** Reads the waiting items of `channel` (default: of every channel) now, and once more if woken meanwhile. */
  poke(channel?: string): void {
    if (channel === undefined) this.wokenAll = true;
    else this.woken.add(channel);
    void this.pass().catch((e: unknown) => this.host.onError?.(e));
  }

  /** Reads every waiting item of every channel; resolves when they are taken. */
  drain(): Promise<void> {
    this.wokenAll = true;
    return this.pass();
  }

  private pass(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        if (this.closed) return;
        const all = this.wokenAll;
        const woken = this.woken;
        this.wokenAll = false;
        this.woken = new Set();
        for (const [channel, drop] of this.channels()) {
          if (!all && !woken.has(channel)) continue;
          this.watch(channel, drop);
          // A look first, by path: most passes find nothing, and opening the folders costs a dozen
          // calls per channel. What it lists is only a hint; nothing is read through it.
          if ((await listDropped(drop)).length === 0) continue;
          // Every read, write and delete goes through the opened folders: a worker that swaps one
          // for a symlink cannot make orch touch files elsewhere.
          const pinned = await pinDrop(drop);
          if (!pinned) {
            await this.reject(channel, 'its outbox is not made of plain directories');
            continue;
          }
          try {
            for (const name of await listDropped(pinned.paths)) {
              if (this.closed) return;
              await this.take(channel, pinned.paths, name);
            }
          } finally {
            await pinned.close();
          }
        }
      } while (this.again && !this.closed);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private channels(): [string, DropPaths][] {
    const out: [string, DropPaths][] = this.host
      .state()
      .order.map((id) => [id, taskChannelPaths(this.host.runDir, id).outbox]);
    out.push([USER_CHANNEL, dropPaths(runDirPaths(this.host.runDir).userOutbox)]);
    return out;
  }

  private watch(channel: string, drop: DropPaths): void {
    if (this.watchers.has(channel) || this.closed) return;
    try {
      mkdirSync(drop.new, { recursive: true });
      mkdirSync(drop.tmp, { recursive: true });
      const w = fsWatch(drop.new, () => this.poke(channel));
      w.on('error', () => {
        // The directory was removed: the next scan watches it again.
        w.close();
        this.watchers.delete(channel);
      });
      this.watchers.set(channel, w);
    } catch (e) {
      this.host.onError?.(e);
    }
  }

  private async take(channel: string, drop: DropPaths, name: string): Promise<void> {
    const read = await readDropped(drop, name);
    if (!read.ok) {
      await this.reject(channel, read.reason);
      await removeDropped(drop, name);
      return;
    }
    const item = read.item;
    if (this.seen.has(item.id) || name !== `${item.id}.json`) {
      // Journaled before (a crash between journaling and deleting), or a copy under another name.
      await removeDropped(drop, name);
      return;
    }
    const verdict = this.authenticate(channel, item);
    if (verdict === 'later') return;
    let result: Verdict;
    if (verdict !== undefined) {
      result = { ok: false, detail: verdict };
    } else if (!this.allow(channel)) {
      result = { ok: false, detail: 'too many reports; slow down' };
    } else {
      result = await acceptItem(this.host.runDir, this.host.state(), channel, item, (ev) =>
        this.host.append(ev),
      );
      if (result.ok && item.body.kind === 'mail' && this.host.onMail)
        await this.host.onMail(result.result as MailboxMessage).catch(traced('intake.onMail'));
    }
    this.seen.add(item.id);
    if (!result.ok && !(item.body.kind === 'activity' && verdict === STALE))
      await this.reject(channel, result.detail, item.body.kind);
    if (item.ack) await writeAck(drop, { id: item.id, ...result }).catch(traced('intake.writeAck'));
    await removeDropped(drop, name);
  }

  /** Undefined when the item may speak for its channel, 'later' to keep it, else the reason to refuse. */
  private authenticate(channel: string, item: OutboxItem): string | 'later' | undefined {
    const key = this.key as Buffer;
    if (channel === USER_CHANNEL)
      return sameSecret(item.token, userToken(key)) ? undefined : 'the token is not the user token';
    if (item.task !== channel)
      return `an item for task ${JSON.stringify(item.task ?? null)} in the channel of ${channel}`;
    if (item.attempt === undefined) return 'the item names no attempt';
    if (!sameSecret(item.token, taskToken(key, channel, item.attempt)))
      return `the token does not belong to task ${channel} attempt ${item.attempt}`;
    const journaled = this.host.state().tasks[channel]?.attempt ?? 0;
    const current = Math.max(journaled, this.host.launched.get(channel) ?? 0);
    // Launched but not journaled yet: the report must follow `task.started`, not be wiped by it.
    if (item.attempt > journaled && item.attempt <= current) return 'later';
    if (item.attempt > current) return `attempt ${item.attempt} of ${channel} was never started`;
    if (item.body.kind === 'exited') return undefined; // the exit of an earlier attempt is still news
    if (item.attempt < current) return STALE;
    return undefined;
  }

  private allow(channel: string): boolean {
    const now = Date.now();
    const b = this.accepted.get(channel) ?? { tokens: BURST, at: now };
    b.tokens = Math.min(BURST, b.tokens + ((now - b.at) / 1000) * PER_SECOND);
    b.at = now;
    this.accepted.set(channel, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private async reject(channel: string, reason: string, kind?: string): Promise<void> {
    const window = Math.floor(Date.now() / 60_000);
    const r = this.rejects.get(channel) ?? { window, count: 0, dropped: 0 };
    if (r.window !== window) {
      r.window = window;
      r.count = 0;
    }
    this.rejects.set(channel, r);
    if (r.count >= REJECTS_PER_MINUTE) {
      r.dropped += 1;
      return;
    }
    r.count += 1;
    const dropped = r.dropped;
    r.dropped = 0;
    await this.host.append({
      type: 'worker.rejected',
      channel,
      // Reasons may quote what a worker wrote: no control characters reach a terminal.
      reason: reason.replace(CONTROL, '?').slice(0, 500),
      ...(kind ? { kind } : {}),
      dropped,
    });
  }
}

const STALE = 'the report is from an earlier attempt';
// eslint-disable-next-line no-control-regex -- control characters are exactly what this replaces
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

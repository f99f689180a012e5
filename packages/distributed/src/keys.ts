/** Every Redis key orch uses, in one place; the parts are validated names, never raw input. */
import { assertSafeName } from '@orch/store';

export interface Keys {
  events(run: string): string;
  lease(run: string): string;
  inbox(run: string, name: string): string;
  inboxLock(run: string, name: string): string;
  mailboxHistory(run: string): string;
  mailboxSeq(run: string, from: string): string;
  mailboxIds(run: string): string;
  /** The user's reports and messages to a live supervisor (a stream), and each one's verdict (a list). */
  userOutbox(run: string): string;
  userAck(run: string, id: string): string;
  /** Until when every host holds back new attempts of an agent (its API said slow down). */
  rateLimit(agent: string): string;
  context(): string;
  /** BullMQ's own keys start with this (its `prefix` option). */
  bullPrefix(): string;
  host(name: string): string;
  hosts(): string;
  worker(run: string, name: string): string;
  workerTail(run: string, name: string): string;
  workerCancel(run: string, name: string): string;
  /** Sorted set of the runs this store holds: run id scored by its start time (ms). */
  runs(): string;
  /** The run's frozen plan, as YAML, as its supervisor froze it. */
  plan(run: string): string;
  /** A task's channel from its host to the supervisor: what the worker dropped in its outbox. */
  channel(run: string, task: string): string;
  /** The supervisor's verdicts on the channel's items that asked for one, back to the host. */
  channelAcks(run: string, task: string): string;
  /** Messages delivered to the task's inbox, for the host running its attempt (taken as delivered). */
  channelInbox(run: string, task: string): string;
}

export function keysFor(prefix = 'orch'): Keys {
  const run = (r: string): string => `${prefix}:run:${assertSafeName(r, 'run id')}`;
  return {
    events: (r) => `${run(r)}:events`,
    lease: (r) => `${run(r)}:lease`,
    inbox: (r, n) => `${run(r)}:inbox:${assertSafeName(n, 'inbox')}`,
    inboxLock: (r, n) => `${run(r)}:inbox-lock:${assertSafeName(n, 'inbox')}`,
    mailboxHistory: (r) => `${run(r)}:mailbox:history`,
    mailboxSeq: (r, f) => `${run(r)}:mailbox:seq:${assertSafeName(f, 'sender')}`,
    mailboxIds: (r) => `${run(r)}:mailbox:ids`,
    userOutbox: (r) => `${run(r)}:user-outbox`,
    userAck: (r, id) => `${run(r)}:user-ack:${assertSafeName(id, 'item id')}`,
    rateLimit: (a) => `${prefix}:rate-limit:${assertSafeName(a, 'agent')}`,
    context: () => `${prefix}:context`,
    bullPrefix: () => `${prefix}:bull`,
    host: (n) => `${prefix}:host:${assertSafeName(n, 'host name')}`,
    hosts: () => `${prefix}:hosts`,
    worker: (r, n) => `${run(r)}:worker:${assertSafeName(n, 'worker name')}`,
    workerTail: (r, n) => `${run(r)}:worker-tail:${assertSafeName(n, 'worker name')}`,
    workerCancel: (r, n) => `${run(r)}:worker-cancel:${assertSafeName(n, 'worker name')}`,
    runs: () => `${prefix}:runs`,
    plan: (r) => `${run(r)}:plan`,
    channel: (r, t) => `${run(r)}:channel:${assertSafeName(t, 'task id')}`,
    channelAcks: (r, t) => `${run(r)}:channel-acks:${assertSafeName(t, 'task id')}`,
    channelInbox: (r, t) => `${run(r)}:channel-inbox:${assertSafeName(t, 'task id')}`,
  };
}

/**
 * What a live host owns in the store: its heartbeat record (`host`, expiring after three missed
 * beats) and its name in the hosts set (taken out by `listHosts` once the record is gone, and by the
 * host on stop). Besides these, BullMQ keeps for a host only its worker connections (named after
 * it) and the lock of each job it runs (`<bullPrefix>:attempts:<job>:lock`, lapsing after the
 * lease). Everything else naming a host is history: the journal's `task.placed`, a finished job's
 * result, the worker record of the attempt it ran last.
 */
export function hostOwned(
  keys: Keys,
  name: string,
): { keys: string[]; members: [set: string, member: string][] } {
  return { keys: [keys.host(name)], members: [[keys.hosts(), name]] };
}

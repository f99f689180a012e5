/**
 * What every mailbox of a run shares, whatever holds its messages (files here, Redis streams in a
 * distributed run): who can receive, how `all` fans out, and what a sender may send.
 */
import { randomBytes } from 'node:crypto';
import {
  MAILBOX_ALL,
  MAILBOX_MAX_BODY_BYTES,
  MAILBOX_SUPERVISOR,
  MailboxMessage,
  MailboxMessageInput,
  OrchError,
} from '@orch/core';
import { assertSafeName } from './names.js';

export interface SendOptions {
  from: string;
  /** The message id (the supervisor derives it from the outbox item, so a repeat is refused). */
  id?: string;
}

/** A sender's message, checked: its name, the message schema and the size limit. */
export function checkOutgoing(
  raw: MailboxMessageInput | string,
  opts: SendOptions,
): { from: string; input: MailboxMessageInput } {
  const from = assertSafeName(opts.from, 'sender');
  const parsed = MailboxMessageInput.safeParse(typeof raw === 'string' ? { type: 'info', body: raw } : raw);
  if (!parsed.success) {
    throw new OrchError(
      'ERR_ORCH_INVALID_MESSAGE',
      `invalid message: ${parsed.error.issues[0]?.message ?? ''}`,
      {
        hint: 'Types: info; interface-changed (needs a target); blocked-on (needs a task); needs-decision (needs a question).',
      },
    );
  }
  const size = Buffer.byteLength(JSON.stringify(parsed.data), 'utf8');
  if (size > MAILBOX_MAX_BODY_BYTES) {
    throw new OrchError(
      'ERR_ORCH_MESSAGE_TOO_LARGE',
      `message is ${size} bytes; the limit is ${MAILBOX_MAX_BODY_BYTES} bytes`,
      { hint: 'Send a short message and put long content in a file of the repository, then name the file.' },
    );
  }
  return { from, input: parsed.data };
}

/** The whole message as delivered: the sender's input with its id, sender, recipient, time and number. */
export function sealMessage(
  input: MailboxMessageInput,
  m: { id?: string; from: string; to: string; ts: string; seq: number },
): MailboxMessage {
  const msg = MailboxMessage.parse({
    ...input,
    id: m.id ?? `${m.ts.replace(/[-:.TZ]/g, '')}-${randomBytes(6).toString('hex')}`,
    from: m.from,
    to: m.to,
    ts: m.ts,
    seq: m.seq,
  });
  assertSafeName(msg.id, 'message id');
  return msg;
}

export abstract class MailboxRouting {
  readonly tasks: readonly string[];

  constructor(tasks: readonly string[]) {
    this.tasks = [...tasks];
  }

  /** Inboxes that can receive: every task of the run and the supervisor. */
  inboxes(): string[] {
    return [...this.tasks, MAILBOX_SUPERVISOR];
  }

  /** Throws unless `name` is an inbox of this run. */
  assertInbox(name: string): string {
    assertSafeName(name, 'recipient');
    if (!this.inboxes().includes(name)) {
      throw new OrchError('ERR_ORCH_UNKNOWN_RECIPIENT', `${JSON.stringify(name)} is not a task of this run`, {
        hint: `Send to a task (${this.tasks.join(', ') || 'none'}), '${MAILBOX_SUPERVISOR}', or '${MAILBOX_ALL}'.`,
      });
    }
    return name;
  }

  /** Sends to one inbox, or to every inbox but the sender's when `to` is `all`. */
  async send(to: string, input: MailboxMessageInput | string, opts: SendOptions): Promise<MailboxMessage> {
    if (to === MAILBOX_ALL) return this.broadcast(input, opts);
    this.assertInbox(to);
    return this.deliver(to, [to], input, opts);
  }

  async broadcast(input: MailboxMessageInput | string, opts: SendOptions): Promise<MailboxMessage> {
    const recipients = this.inboxes().filter((n) => n !== opts.from);
    return this.deliver(MAILBOX_ALL, recipients, input, opts);
  }

  /** Stores one message for `recipients` (`to` is what it names: an inbox or `all`). */
  protected abstract deliver(
    to: string,
    recipients: string[],
    raw: MailboxMessageInput | string,
    opts: SendOptions,
  ): Promise<MailboxMessage>;
}

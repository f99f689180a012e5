/**
 * Mailbox messages between workers, the supervisor and people. Typed messages carry the one field
 * the supervisor acts on: `blocked-on` pauses the sender until `task` is merged, `needs-decision`
 * surfaces `question` to a human, `interface-changed` names the contract or file that moved.
 */
import { z } from 'zod';

export const MAILBOX_SUPERVISOR = 'supervisor';
export const MAILBOX_ALL = 'all';
/** Largest message body accepted, in bytes (UTF-8). */
export const MAILBOX_MAX_BODY_BYTES = 64 * 1024;

export const MailboxMessageType = z.enum(['info', 'interface-changed', 'blocked-on', 'needs-decision']);
export type MailboxMessageType = z.infer<typeof MailboxMessageType>;

const common = {
  id: z.string(),
  from: z.string(),
  /** The recipient inbox, or `all` for a broadcast. */
  to: z.string(),
  ts: z.string(),
  /** Per-sender sequence number: messages of one sender sort by it. */
  seq: z.number().int().nonnegative(),
  body: z.string(),
};

export const MailboxMessage = z.discriminatedUnion('type', [
  z.object({ ...common, type: z.literal('info') }),
  z.object({ ...common, type: z.literal('interface-changed'), target: z.string().min(1) }),
  z.object({ ...common, type: z.literal('blocked-on'), task: z.string().min(1) }),
  z.object({ ...common, type: z.literal('needs-decision'), question: z.string().min(1) }),
]);
export type MailboxMessage = z.infer<typeof MailboxMessage>;

/** What a sender supplies; the mailbox fills id, from, to, ts and seq. */
export const MailboxMessageInput = z.discriminatedUnion('type', [
  z.object({ type: z.literal('info'), body: z.string() }),
  z.object({ type: z.literal('interface-changed'), body: z.string(), target: z.string().min(1) }),
  z.object({ type: z.literal('blocked-on'), body: z.string(), task: z.string().min(1) }),
  z.object({ type: z.literal('needs-decision'), body: z.string(), question: z.string().min(1) }),
]);
export type MailboxMessageInput = z.infer<typeof MailboxMessageInput>;

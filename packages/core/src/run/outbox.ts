/**
 * What a worker (its agent's `orch task …` and `orch mailbox send`, and the `orch _exec` wrapper)
 * hands the supervisor through its task channel's outbox, and what the user's own commands hand it
 * through the run's user outbox. The supervisor validates each item (schema, size, token, task) and
 * is the only one that turns it into journal events or mail.
 */
import { z } from 'zod';
import { MailboxMessageInput } from '../mailbox/message.js';
import { UsagePatch } from './events.js';

/** Largest item accepted, in bytes: a mail body (64 KiB) with room for its envelope. */
export const OUTBOX_ITEM_MAX_BYTES = 80 * 1024;
/** Longest status text (progress message, summary, reason, needs). */
export const OUTBOX_TEXT_MAX_BYTES = 16 * 1024;

const text = z
  .string()
  .min(1)
  .refine((s) => Buffer.byteLength(s, 'utf8') <= OUTBOX_TEXT_MAX_BYTES, {
    message: `longer than ${OUTBOX_TEXT_MAX_BYTES} bytes`,
  });

export const OutboxBody = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('progress'), message: text }),
  z.object({ kind: z.literal('done'), summary: text.optional() }),
  z.object({ kind: z.literal('fail'), reason: text }),
  z.object({ kind: z.literal('block'), needs: text, reason: text }),
  /** The wrapper's usage and activity figures. */
  z.object({
    kind: z.literal('activity'),
    usage: UsagePatch.optional(),
    activity: z.string().max(200).optional(),
  }),
  /** The wrapper saw its agent end. */
  z.object({
    kind: z.literal('exited'),
    exitCode: z.number().int().nullable(),
    result: z.object({ ok: z.boolean(), summary: z.string().max(2000).optional() }).optional(),
    rateLimit: z.object({ message: z.string().max(2000), resetAt: z.string().max(64).optional() }).optional(),
    source: z.enum(['agent-result', 'process-exit']),
    detail: z.string().max(500),
  }),
  /** A mailbox message; `from` only counts in the user's outbox (a worker's is its task). */
  z.object({
    kind: z.literal('mail'),
    to: z.string().min(1).max(100),
    message: MailboxMessageInput,
    from: z.string().min(1).max(100).optional(),
  }),
  /**
   * The user's decision on dependency requests (`orch deps approve|deny --store`), carried out by a
   * live distributed supervisor: the user's outbox only. `tasks` absent: every pending request.
   */
  z.object({
    kind: z.literal('deps'),
    decision: z.enum(['approve', 'deny']),
    tasks: z.array(z.string().min(1).max(100)).min(1).max(200).optional(),
    reason: text.optional(),
  }),
]);
export type OutboxBody = z.infer<typeof OutboxBody>;
export type OutboxKind = OutboxBody['kind'];

export const OutboxItem = z.object({
  v: z.literal(1),
  /** Unique per item: a repeat of the same id (a crash between journaling and deleting) is dropped. */
  id: z.string().regex(/^[0-9a-z][0-9a-z-]{7,63}$/),
  /** The task the item speaks for: a worker's own (its channel's), or the one the user names. */
  task: z.string().min(1).max(100).optional(),
  /** The worker attempt whose token signs the item (absent in the user's outbox). */
  attempt: z.number().int().positive().optional(),
  token: z.string().min(1).max(128),
  /** The sender waits for the supervisor's verdict in `ack/<id>.json`. */
  ack: z.boolean().optional(),
  body: OutboxBody,
});
export type OutboxItem = z.infer<typeof OutboxItem>;

/** The supervisor's verdict on an item that asked for one. */
export const OutboxAck = z.object({
  id: z.string(),
  ok: z.boolean(),
  /** What was recorded, or why the item was refused. */
  detail: z.string(),
  /** The journaled event or the delivered message, for `--json` output. */
  result: z.unknown().optional(),
});
export type OutboxAck = z.infer<typeof OutboxAck>;

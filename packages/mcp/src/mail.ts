/** Mailbox tools shared by both sides: the input shape, and reading an inbox. */
import { z } from 'zod';
import { MailboxMessageInput, MailboxMessageType, OrchError, type MailboxMessage } from '@orch/core';
import type { Mailbox } from '@orch/store';

/** Flat (MCP wants an object), checked against the message schema by `messageOf`. */
export const mailInput = {
  to: z.string().min(1).max(100).describe('a task id of the run, `supervisor`, or `all`'),
  body: z.string().min(1).describe('the message text'),
  type: MailboxMessageType.default('info').describe('info | interface-changed | blocked-on | needs-decision'),
  target: z.string().min(1).optional().describe('interface-changed: the contract or file that changed'),
  task: z.string().min(1).optional().describe('blocked-on: the task the sender waits for'),
  question: z.string().min(1).optional().describe('needs-decision: the question (default: the body)'),
};
type MailInput = z.infer<z.ZodObject<typeof mailInput>>;

export function messageOf(input: MailInput): MailboxMessageInput {
  const parsed = MailboxMessageInput.safeParse({
    type: input.type,
    body: input.body,
    ...(input.type === 'interface-changed' ? { target: input.target } : {}),
    ...(input.type === 'blocked-on' ? { task: input.task } : {}),
    ...(input.type === 'needs-decision' ? { question: input.question ?? input.body } : {}),
  });
  if (!parsed.success) {
    const need = input.type === 'interface-changed' ? 'target' : 'task';
    throw new OrchError('ERR_ORCH_INVALID_MESSAGE', `a ${input.type} message needs ${need}`, {
      hint: `Pass ${need} with the message.`,
    });
  }
  return parsed.data;
}

/** The unread messages of `inbox`, marked read once they are in hand (the tool result carries them). */
export async function readInbox(mb: Mailbox, inbox: string): Promise<MailboxMessage[]> {
  const out: MailboxMessage[] = [];
  await mb.deliverUnread(inbox, async (batch) => {
    out.push(...batch);
  });
  return out;
}

/**
 * Claude Code hooks that deliver mailbox messages into a running worker's context at turn
 * boundaries: after each tool call (PostToolUse) and when a prompt is submitted (UserPromptSubmit).
 * The hook command prints `hookSpecificOutput.additionalContext` only when there is something new.
 */
import { type MailboxMessage, shellQuote } from '@orch/core';
import { formatMessages } from './mailbox.js';

export const MAILBOX_HOOK_EVENTS = ['PostToolUse', 'UserPromptSubmit'] as const;
export type MailboxHookEvent = (typeof MAILBOX_HOOK_EVENTS)[number];

/**
 * Settings for `claude --settings <file>`: both hook events run `<orchBin> mailbox hook`.
 * `orchBin` is the orch executable, or its argv (e.g. `['node', '/path/bin.js']`); each part is quoted.
 */
export function mailboxHookSettings(orchBin: string | readonly string[]): object {
  const argv = typeof orchBin === 'string' ? [orchBin] : [...orchBin];
  const command = [...argv, 'mailbox', 'hook'].map(shellQuote).join(' ');
  const hook = { type: 'command', command, timeout: 15 };
  return {
    hooks: {
      PostToolUse: [{ matcher: '*', hooks: [hook] }],
      UserPromptSubmit: [{ hooks: [hook] }],
    },
  };
}

/** The hook's stdout for new messages (undefined when there are none). */
export function mailboxHookOutput(event: string, messages: readonly MailboxMessage[]): object | undefined {
  if (messages.length === 0) return undefined;
  const hookEventName = (MAILBOX_HOOK_EVENTS as readonly string[]).includes(event) ? event : 'PostToolUse';
  const additionalContext =
    `orch mailbox: ${messages.length} new message(s) for you (marked read once shown here).\n\n` +
    formatMessages(messages);
  return { hookSpecificOutput: { hookEventName, additionalContext } };
}

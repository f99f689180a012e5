/** `orch mailbox ...`: messages between workers, the supervisor and people, per run. */
import {
  ExitCode,
  MAILBOX_ALL,
  MailboxMessageType,
  OrchError,
  terminalSafeLine,
  type MailboxMessageInput,
} from '@orch/core';
import {
  cannotWait,
  loadRun,
  submit,
  submittedNote,
  workerToken,
  type LoadedRun,
  type RunOpts,
  type Submitted,
} from '@orch/engine';
import type { MailboxApi } from '@orch/distributed';
import { Mailbox, formatMessages, mailboxHookOutput, resolveRun, runPaths } from '@orch/store';
import type { CommandIO, CommandResult } from '../../define.js';
import { readAll, writeOut } from '../../output.js';
import { storeUrlOf, openStoreRun } from '../../run-store.js';
import { senderName, whereOf } from '../common/run.js';

export interface SendOpts extends RunOpts {
  store?: string;
  from?: string;
  type?: string;
  target?: string;
  /** For `blocked-on`: the task the sender waits for. */
  blockedOn?: string;
  question?: string;
  json?: boolean;
}

function buildInput(body: string, o: SendOpts): MailboxMessageInput {
  const parsed = MailboxMessageType.safeParse(o.type ?? 'info');
  if (!parsed.success) {
    throw new OrchError('ERR_ORCH_INVALID_MESSAGE', `unknown message type ${JSON.stringify(o.type)}`, {
      hint: `Types: ${MailboxMessageType.options.join(', ')}.`,
      exitCode: ExitCode.Usage,
    });
  }
  const need = (v: string | undefined, flag: string): string => {
    if (!v) {
      throw new OrchError('ERR_ORCH_INVALID_MESSAGE', `a ${parsed.data} message needs ${flag}`, {
        hint: `Example: orch mailbox send supervisor "..." --type ${parsed.data} ${flag} <value>`,
        exitCode: ExitCode.Usage,
      });
    }
    return v;
  };
  switch (parsed.data) {
    case 'info':
      return { type: 'info', body };
    case 'interface-changed':
      return { type: 'interface-changed', body, target: need(o.target, '--target') };
    case 'blocked-on':
      return { type: 'blocked-on', body, task: need(o.blockedOn, '--task') };
    case 'needs-decision':
      return { type: 'needs-decision', body, question: o.question ?? body };
  }
}

interface Opened {
  mb: MailboxApi;
  run: string;
  task?: string;
  close(): void;
}

/** The run's mailbox: in its Redis store when one is named (`--store`, config), else in its run folder. */
async function open(opts: RunOpts & { store?: string | undefined }, io: CommandIO): Promise<Opened> {
  const url = await storeUrlOf(opts.store, io);
  if (url) {
    const sr = await openStoreRun(url, opts.run, io);
    const task = io.env.ORCH_TASK || undefined;
    return { mb: sr.mailbox, run: sr.run, ...(task ? { task } : {}), close: () => sr.close() };
  }
  const loaded = await loadRun({ ...opts, where: whereOf(io) });
  return {
    mb: new Mailbox(loaded.dir, { tasks: loaded.state.order }),
    run: loaded.run,
    ...(loaded.task ? { task: loaded.task } : {}),
    close: () => {},
  };
}

/** A worker's own inbox (see openOwnInbox), else the run's mailbox; `close` when done. */
async function openFor(
  inbox: string | undefined,
  o: RunOpts & { store?: string | undefined },
  io: CommandIO,
): Promise<Opened> {
  const own = o.store ? undefined : await openOwnInbox(inbox, o, io);
  if (own) return { mb: own.mb, run: '', task: own.name, close: () => {} };
  return open({ ...(o.run ? { run: o.run } : {}), store: o.store }, io);
}

/**
 * A worker reading its own inbox needs only its task channel, which is all the OS sandbox lets it
 * see (the journal, and with it the run's task list, is hidden): undefined for anyone else.
 */
async function openOwnInbox(
  inbox: string | undefined,
  opts: RunOpts,
  io: CommandIO,
): Promise<{ mb: Mailbox; name: string } | undefined> {
  const task = io.env.ORCH_TASK;
  if (!task || !workerToken(io.env) || (inbox ?? opts.task ?? task) !== task) return undefined;
  const r = await resolveRun({ ...whereOf(io), ...(opts.run ? { run: opts.run } : {}) });
  return { mb: new Mailbox(runPaths(r.repoRoot, r.run).dir, { tasks: [task] }), name: task };
}

function inboxOf(inbox: string | undefined, task: string | undefined): string {
  const name = inbox ?? task;
  if (!name) {
    throw new OrchError('ERR_ORCH_NO_INBOX', 'which inbox? none was given', {
      hint: 'Name it (a task id or `supervisor`), or run inside a worker where ORCH_TASK is set.',
      exitCode: ExitCode.Usage,
    });
  }
  return name;
}

export async function sendCommand(
  to: string,
  body: string,
  o: SendOpts,
  io: CommandIO,
): Promise<CommandResult> {
  const input = buildInput(body, o);
  const from = senderName(o.from, io.env);
  const url = await storeUrlOf(o.store, io);
  if (url) {
    const { submitToStore } = await import('../../store-submit.js');
    const s = await submitToStore(
      url,
      { kind: 'mail', to, message: input },
      {
        run: o.run,
        from,
        precheck: ({ state, store }) => {
          if (to !== MAILBOX_ALL) store.mailbox.assertInbox(to);
          if (input.type === 'blocked-on') {
            const why = cannotWait(state, from, input.task);
            if (why)
              throw new OrchError(
                'ERR_ORCH_INVALID_MESSAGE',
                `${from} cannot wait for ${input.task}: ${why}`,
                {
                  exitCode: ExitCode.Usage,
                },
              );
          }
        },
      },
      io,
    );
    return sentResult(s, to, o);
  }
  // The user's messages are checked here; a worker's by the supervisor, which knows who sent it.
  const precheck = ({ dir, state }: LoadedRun): void => {
    if (to !== MAILBOX_ALL) new Mailbox(dir, { tasks: state.order }).assertInbox(to);
    if (input.type === 'blocked-on') {
      const why = cannotWait(state, from, input.task);
      if (why)
        throw new OrchError('ERR_ORCH_INVALID_MESSAGE', `${from} cannot wait for ${input.task}: ${why}`, {
          exitCode: ExitCode.Usage,
        });
    }
  };
  const s = await submit(
    { kind: 'mail', to, message: input },
    {
      ...(o.run ? { run: o.run } : {}),
      ...(o.from !== undefined || !workerToken(io.env) ? { from } : {}),
      precheck,
      where: whereOf(io),
    },
  );
  return sentResult(s, to, o);
}

function sentResult(s: Submitted, to: string, o: SendOpts): CommandResult {
  const note = submittedNote(s);
  if (o.json) return { exitCode: ExitCode.Ok, json: s.verdict?.result ?? { queued: true, run: s.run } };
  return {
    exitCode: ExitCode.Ok,
    lines: [terminalSafeLine(`${s.verdict?.detail ?? `sent to ${to}`}${note ? `; ${note}` : ''}`)],
  };
}

export async function broadcastCommand(body: string, o: SendOpts, io: CommandIO): Promise<CommandResult> {
  return sendCommand('all', body, o, io);
}

/** Human output of `check` is written in batches: at most one batch repeats after a crash. */
const CHECK_BATCH = 50;

export async function checkCommand(
  inbox: string | undefined,
  o: RunOpts & { json?: boolean; store?: string | undefined },
  io: CommandIO,
): Promise<CommandResult> {
  const opened = await openFor(inbox, o, io);
  try {
    return await checkOn(opened, inbox, o, io);
  } finally {
    opened.close();
  }
}

async function checkOn(
  { mb, task }: Opened,
  inbox: string | undefined,
  o: RunOpts & { json?: boolean },
  io: CommandIO,
): Promise<CommandResult> {
  const name = inboxOf(inbox, o.task ?? task);
  // Messages are marked read only after they were written out: a checker killed midway loses
  // none (the rest stay unread; ids make a repeat harmless).
  let first = true;
  const delivered = await mb.deliverUnread(
    name,
    async (batch) => {
      if (o.json) await writeOut(io.stdout, `${JSON.stringify(batch, null, 2)}\n`);
      else await writeOut(io.stdout, `${first ? '' : '\n'}${formatMessages(batch)}\n`);
      first = false;
    },
    o.json ? {} : { batch: CHECK_BATCH },
  );
  if (delivered.length > 0) return { exitCode: ExitCode.Ok };
  if (o.json) return { exitCode: ExitCode.Ok, json: [] };
  return { exitCode: ExitCode.Ok, lines: [`no unread messages for ${terminalSafeLine(name)}`] };
}

export async function peekCommand(
  inbox: string | undefined,
  o: RunOpts & { json?: boolean; store?: string | undefined },
  io: CommandIO,
): Promise<CommandResult> {
  const { mb, task, close } = await openFor(inbox, o, io);
  try {
    const name = inboxOf(inbox, o.task ?? task);
    const unread = await mb.peek(name);
    if (o.json) return { exitCode: ExitCode.Ok, json: { inbox: name, unread } };
    return { exitCode: ExitCode.Ok, lines: [String(unread)] };
  } finally {
    close();
  }
}

export async function historyCommand(
  o: RunOpts & { json?: boolean; store?: string | undefined },
  io: CommandIO,
): Promise<CommandResult> {
  const { mb, close } = await open({ ...(o.run ? { run: o.run } : {}), store: o.store }, io);
  try {
    const msgs = await mb.history();
    if (o.json) return { exitCode: ExitCode.Ok, json: msgs };
    return { exitCode: ExitCode.Ok, lines: [msgs.length ? formatMessages(msgs) : 'no messages yet'] };
  } finally {
    close();
  }
}

/** Streams: each message is written to the injected stdout as it arrives, until Ctrl-C. */
export async function watchCommand(
  inbox: string | undefined,
  o: RunOpts & { json?: boolean; keepUnread?: boolean; store?: string | undefined },
  io: CommandIO,
): Promise<CommandResult> {
  const { mb, task, close } = await open({ ...(o.run ? { run: o.run } : {}), store: o.store }, io);
  const name = inboxOf(inbox, o.task ?? task);
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for await (const m of mb.watch(name, { signal: ac.signal, consume: !o.keepUnread })) {
      // One JSON object per line with --json, so the output can be piped message by message. The
      // message counts as read when the loop asks for the next one, i.e. after it was written out.
      await writeOut(io.stdout, o.json ? `${JSON.stringify(m)}\n` : `${formatMessages([m])}\n\n`);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    close();
  }
  return { exitCode: ExitCode.Ok };
}

/**
 * Claude Code hook (PostToolUse / UserPromptSubmit): when the worker has unread messages, prints the
 * hook output that adds them to the agent's context and marks them read; prints nothing otherwise.
 * It never fails the agent's turn: problems are reported on stderr with exit code 0.
 */
export async function hookCommand(io: CommandIO): Promise<CommandResult> {
  const done = { exitCode: ExitCode.Ok };
  try {
    const raw = await readAll(io.stdin);
    let event = 'PostToolUse';
    if (raw.trim()) {
      const input = JSON.parse(raw) as { hook_event_name?: unknown };
      if (typeof input.hook_event_name === 'string') event = input.hook_event_name;
    }
    const task = io.env.ORCH_TASK;
    if (!task) return done;
    const { mb, close } = await openFor(task, {}, io);
    try {
      if ((await mb.peek(task)) === 0) return done;
      // Marked read only once Claude Code has the output (at least once, as `check`).
      await mb.deliverUnread(task, async (msgs) => {
        const out = mailboxHookOutput(event, msgs);
        if (out) await writeOut(io.stdout, `${JSON.stringify(out)}\n`);
      });
    } finally {
      close();
    }
  } catch (e) {
    io.stderr.write(`orch mailbox hook: ${e instanceof Error ? e.message : String(e)}\n`);
  }
  return done;
}

/**
 * The mailbox of a run, in the style of Maildir: a message is written to a temporary file and
 * linked into `inbox/<name>/new/`; reading it renames it into `cur/`. Delivery is at least once:
 * a reader marks messages read only after it has handed them on (printed and flushed them), so a
 * reader killed midway leaves the rest unread and the next check delivers them again. Readers of
 * one inbox take turns under a lock, so two live checkers never both receive a message; a
 * message's `id` is unique, which makes the rare repeat after a crash harmless. Each sender has a
 * sequence number kept under a lock, and messages sort by (time, sender, sequence), which keeps
 * every sender's order. A broadcast is one copy per recipient, never to the sender.
 */
import { watch as fsWatch } from 'node:fs';
import { appendFile, link, mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  MAILBOX_SUPERVISOR,
  MailboxMessage,
  type MailboxMessageInput,
  OrchError,
  terminalSafe,
  terminalSafeLine,
  withFileLock,
  traced,
} from '@orch/core';
import { readJsonFile, writeJsonAtomic, writeNewFile } from './atomic.js';
import { loadRunState } from './journal.js';
import { assertSafeName } from './names.js';
import { MailboxRouting, checkOutgoing, sealMessage, type SendOptions } from './mailbox-routing.js';

export type { SendOptions } from './mailbox-routing.js';
import { runDirPaths, taskChannelPaths } from './paths.js';

export interface WatchOptions {
  signal?: AbortSignal;
  /**
   * Mark each message read once the consumer has handled it, i.e. when it asks for the next one
   * (default true); false only observes.
   */
  consume?: boolean;
}

export function compareMessages(a: MailboxMessage, b: MailboxMessage): number {
  return (
    a.ts.localeCompare(b.ts) || a.from.localeCompare(b.from) || a.seq - b.seq || a.id.localeCompare(b.id)
  );
}

export class Mailbox extends MailboxRouting {
  readonly dir: string;
  private readonly runDir: string;

  constructor(runDir: string, opts: { tasks: readonly string[] }) {
    super(opts.tasks);
    this.runDir = runDir;
    this.dir = runDirPaths(runDir).mailbox;
  }

  /** The mailbox of a run, with the run's tasks (from its journal) as valid recipients. */
  static async open(runDir: string): Promise<Mailbox> {
    const state = await loadRunState(runDir);
    if (!state) {
      throw new OrchError('ERR_ORCH_RUN_NOT_FOUND', `the run in ${runDir} has no tasks yet`, {
        hint: 'Wait until `orch run` has started the run, then try again.',
      });
    }
    return new Mailbox(runDir, { tasks: state.order });
  }

  private inboxDir(name: string): { newDir: string; curDir: string } {
    // A task's inbox lives in its task channel, the one part of the run a worker can see.
    const base =
      name === MAILBOX_SUPERVISOR ? join(this.dir, 'inbox', name) : taskChannelPaths(this.runDir, name).inbox;
    return { newDir: join(base, 'new'), curDir: join(base, 'cur') };
  }

  protected async deliver(
    to: string,
    recipients: string[],
    raw: MailboxMessageInput | string,
    opts: SendOptions,
  ): Promise<MailboxMessage> {
    const { from, input } = checkOutgoing(raw, opts);
    const seqDir = join(this.dir, 'seq');
    const tmpDir = join(this.dir, 'tmp');
    await mkdir(seqDir, { recursive: true });
    await mkdir(tmpDir, { recursive: true });
    return withFileLock(join(seqDir, `${from}.lock`), async () => {
      const seqFile = join(seqDir, `${from}.json`);
      // The counter is not fsync'd: after a crash it may restart, and ids stay unique by their random part.
      const last = (await readJsonFile<{ seq: number; ts: string }>(seqFile).catch(
        traced('store.mailbox.readSeq'),
      )) ?? {
        seq: 0,
        ts: '',
      };
      const now = new Date().toISOString();
      // A clock step backwards must not reorder one sender's messages.
      const ts = now > last.ts ? now : last.ts;
      const seq = last.seq + 1;
      const msg = sealMessage(input, { ...(opts.id ? { id: opts.id } : {}), from, to, ts, seq });
      await writeJsonAtomic(seqFile, { seq, ts }, { fsync: false });
      const tmp = join(tmpDir, `${msg.id}.${process.pid}.json`);
      await writeNewFile(tmp, JSON.stringify(msg));
      try {
        for (const r of recipients) {
          const { newDir, curDir } = this.inboxDir(r);
          await mkdir(newDir, { recursive: true });
          await mkdir(curDir, { recursive: true });
          // link() fails on an existing name, so a message can never replace another; with a given
          // id that name is this very message, delivered before a crash.
          await link(tmp, join(newDir, `${msg.id}.json`)).catch((e: NodeJS.ErrnoException) => {
            if (e.code !== 'EEXIST' || opts.id === undefined) throw e;
          });
        }
      } finally {
        await rm(tmp, { force: true });
      }
      await appendFile(join(this.dir, 'history.jsonl'), `${JSON.stringify(msg)}\n`);
      return msg;
    });
  }

  private async listNew(inbox: string): Promise<string[]> {
    try {
      return (await readdir(this.inboxDir(inbox).newDir)).filter((f) => f.endsWith('.json'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  /**
   * Hands the unread messages of `inbox` to `deliver`, oldest first, in batches of `batch`, and
   * marks each batch read only once `deliver` has resolved for it (at least once: a reader killed
   * or failing midway leaves the rest unread). Deliveries to one inbox take turns under a lock, so
   * concurrent checkers never both receive a message. Returns what was delivered.
   */
  async deliverUnread(
    inbox: string,
    deliver: (batch: MailboxMessage[]) => Promise<void>,
    opts: { batch?: number } = {},
  ): Promise<MailboxMessage[]> {
    this.assertInbox(inbox);
    const { newDir, curDir } = this.inboxDir(inbox);
    await mkdir(newDir, { recursive: true });
    await mkdir(curDir, { recursive: true });
    const size = Math.max(1, opts.batch ?? Number.POSITIVE_INFINITY);
    return withFileLock(
      join(newDir, '..', 'check.lock'),
      async () => {
        const entries: { file: string; msg: MailboxMessage }[] = [];
        for (const f of await this.listNew(inbox)) {
          const msg = await this.readMessage(join(newDir, f));
          // An unreadable file is moved aside so that it does not count as unread forever.
          if (msg) entries.push({ file: f, msg });
          else await this.markFile(newDir, curDir, f);
        }
        entries.sort((a, b) => compareMessages(a.msg, b.msg));
        const out: MailboxMessage[] = [];
        for (let i = 0; i < entries.length; i += size) {
          const part = entries.slice(i, i + size);
          await deliver(part.map((e) => e.msg));
          for (const e of part) await this.markFile(newDir, curDir, e.file);
          out.push(...part.map((e) => e.msg));
        }
        return out;
      },
      { purpose: `mailbox check ${inbox}`, timeoutMs: 30_000 },
    );
  }

  /**
   * Unread messages of `inbox`, oldest first, marked read before they are returned: for callers
   * that keep them in memory only; anything that prints or forwards messages uses `deliverUnread`.
   */
  async check(inbox: string): Promise<MailboxMessage[]> {
    return this.deliverUnread(inbox, async () => {});
  }

  /** Marks messages of `inbox` read by id, once the caller has handed them on; read ones are skipped. */
  async markRead(inbox: string, ids: readonly string[]): Promise<void> {
    this.assertInbox(inbox);
    const { newDir, curDir } = this.inboxDir(inbox);
    for (const id of ids) {
      assertSafeName(id, 'message id');
      await this.markFile(newDir, curDir, `${id}.json`);
    }
  }

  private async markFile(newDir: string, curDir: string, file: string): Promise<void> {
    try {
      await rename(join(newDir, file), join(curDir, file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // read already
    }
  }

  /** Unread messages of `inbox` without marking them read. */
  async unread(inbox: string): Promise<MailboxMessage[]> {
    this.assertInbox(inbox);
    const { newDir } = this.inboxDir(inbox);
    const out: MailboxMessage[] = [];
    for (const f of await this.listNew(inbox)) {
      const msg = await this.readMessage(join(newDir, f));
      if (msg) out.push(msg);
    }
    return out.sort(compareMessages);
  }

  /** The number of unread messages; changes nothing. */
  async peek(inbox: string): Promise<number> {
    this.assertInbox(inbox);
    return (await this.listNew(inbox)).length;
  }

  /** Every message sent in this run (a broadcast once), oldest first. */
  async history(): Promise<MailboxMessage[]> {
    let text: string;
    try {
      text = await readFile(join(this.dir, 'history.jsonl'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: MailboxMessage[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const p = MailboxMessage.safeParse(JSON.parse(line));
        if (p.success) out.push(p.data);
      } catch {
        // a torn last line after a crash
      }
    }
    return out.sort(compareMessages);
  }

  /**
   * Yields messages of `inbox` as they arrive (those already waiting first), woken by fs.watch on
   * the inbox, until `signal` aborts.
   */
  async *watch(inbox: string, opts: WatchOptions = {}): AsyncGenerator<MailboxMessage> {
    this.assertInbox(inbox);
    const consume = opts.consume ?? true;
    const { newDir, curDir } = this.inboxDir(inbox);
    await mkdir(newDir, { recursive: true });
    await mkdir(curDir, { recursive: true });
    const seen = new Set<string>();
    let pending = true;
    let wake: (() => void) | undefined;
    const poke = (): void => {
      pending = true;
      wake?.();
    };
    const watcher = fsWatch(newDir, poke);
    opts.signal?.addEventListener('abort', poke);
    try {
      while (!opts.signal?.aborted) {
        if (!pending) {
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
          continue;
        }
        pending = false;
        for (const m of await this.unread(inbox)) {
          if (seen.has(m.id)) continue;
          seen.add(m.id);
          yield m;
          // The consumer resumes the generator only after it handled `m`: now it counts as read.
          if (consume) await this.markFile(newDir, curDir, `${m.id}.json`);
        }
      }
    } finally {
      watcher.close();
      opts.signal?.removeEventListener('abort', poke);
    }
  }

  private async readMessage(path: string): Promise<MailboxMessage | undefined> {
    try {
      const p = MailboxMessage.safeParse(JSON.parse(await readFile(path, 'utf8')));
      return p.success ? p.data : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Plain-text rendering of messages, for terminals and agent context, control characters neutralised. */
export function formatMessages(msgs: readonly MailboxMessage[]): string {
  return msgs
    .map((m) => {
      const extra =
        m.type === 'interface-changed'
          ? ` target=${m.target}`
          : m.type === 'blocked-on'
            ? ` task=${m.task}`
            : m.type === 'needs-decision'
              ? ` question=${JSON.stringify(m.question)}`
              : '';
      // Bodies and names come from workers: no escape sequence reaches the terminal or the agent.
      const head = terminalSafeLine(`[${m.ts}] from ${m.from} to ${m.to} (${m.type}${extra}) #${m.id}`);
      return `${head}\n${terminalSafe(m.body)}`;
    })
    .join('\n\n');
}

/**
 * Telling a person when a run needs them or has finished: for each notice (see `noticeFor` in
 * core) the user's `notify.command` runs with the notice as JSON on stdin, and a desktop
 * notification shows where `notify-send` (Linux) or `osascript` (macOS) exists. Once per event:
 * the keys delivered are kept in the run folder (`notified.jsonl`), so a restarted supervisor
 * that sees the same events again stays quiet.
 */
import { existsSync, readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { noticeFor, traced, type Config, type Notice, type RunEvent } from '@orch/core';

export const NOTIFIED_FILE = 'notified.jsonl';
/** A notification command that hangs must not hold the supervisor. */
const COMMAND_TIMEOUT_MS = 30_000;

export interface Spawned {
  file: string;
  args: string[];
  input?: string;
}

export interface NotifierOptions {
  runDir: string;
  run: string;
  repoRoot: string;
  config: Config['notify'];
  /** Runs a program with an argument array (and stdin); replaced in tests. */
  spawn?: (p: Spawned & { cwd: string }) => Promise<void>;
  /** The desktop notifier on this machine, if any; replaced in tests. */
  desktop?: (title: string, message: string) => Spawned | undefined;
  env?: NodeJS.ProcessEnv;
}

async function defaultSpawn(p: Spawned & { cwd: string }): Promise<void> {
  const { execa } = await import('execa');
  await execa(p.file, p.args, {
    cwd: p.cwd,
    input: p.input ?? '',
    reject: false,
    timeout: COMMAND_TIMEOUT_MS,
    stdout: 'ignore',
    stderr: 'ignore',
  });
}

function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, name)));
}

/** notify-send or osascript, with the title and message as arguments (never inside a script). */
export function desktopCommand(
  title: string,
  message: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): Spawned | undefined {
  if (platform === 'darwin' && onPath('osascript', env)) {
    return {
      file: 'osascript',
      args: [
        '-e',
        'on run argv',
        '-e',
        'display notification (item 2 of argv) with title (item 1 of argv)',
        '-e',
        'end run',
        title,
        message,
      ],
    };
  }
  if (platform !== 'darwin' && onPath('notify-send', env)) {
    return { file: 'notify-send', args: ['--app-name=orch', '--', title, message] };
  }
  return undefined;
}

/**
 * The user's command: an argument array as given; a string is run by the user's shell exactly as
 * written. The notice goes on stdin only, never into the command line.
 */
export function userCommand(command: string | string[], env: NodeJS.ProcessEnv = process.env): Spawned {
  if (Array.isArray(command)) return { file: command[0]!, args: command.slice(1) };
  return { file: env.SHELL || '/bin/sh', args: ['-c', command] };
}

export class Notifier {
  private readonly sent: Set<string>;
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly o: NotifierOptions) {
    this.sent = new Set(this.readSent());
  }

  private readSent(): string[] {
    try {
      return readFileSync(join(this.o.runDir, NOTIFIED_FILE), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { key: string }).key);
    } catch {
      return [];
    }
  }

  /** Queues the notices the events call for; deliveries run one at a time, in journal order. */
  handle(events: readonly RunEvent[]): void {
    for (const ev of events) {
      const notice = noticeFor(ev, this.o.run);
      if (!notice || this.sent.has(notice.key)) continue;
      this.sent.add(notice.key);
      this.pending = this.pending.then(() => this.deliver(notice)).catch(traced('notify.deliver'));
    }
  }

  private async deliver(n: Notice): Promise<void> {
    // Marked first: a supervisor that stops mid-delivery does not repeat it (at most once).
    await appendFile(join(this.o.runDir, NOTIFIED_FILE), `${JSON.stringify({ key: n.key, kind: n.kind })}\n`);
    const spawn = this.o.spawn ?? defaultSpawn;
    const env = this.o.env ?? process.env;
    const cwd = this.o.repoRoot;
    const { event, ...rest } = n;
    const input = `${JSON.stringify({ ...rest, event })}\n`;
    const jobs: Promise<void>[] = [];
    if (this.o.config.command !== undefined) {
      jobs.push(
        spawn({ ...userCommand(this.o.config.command, env), input, cwd }).catch(traced('notify.command')),
      );
    }
    if (this.o.config.desktop) {
      const desktop = (this.o.desktop ?? ((t, m) => desktopCommand(t, m, env)))(n.title, n.message);
      if (desktop) jobs.push(spawn({ ...desktop, cwd }).catch(traced('notify.desktop')));
    }
    await Promise.all(jobs);
  }

  /** Resolves once every queued notice was delivered. */
  idle(): Promise<void> {
    return this.pending;
  }
}

/**
 * Subscribes a notifier to the run's journal; the returned function unsubscribes and waits for
 * the deliveries under way (so a run's last notice is out before the supervisor exits).
 */
export function startNotifier(ctx: {
  journal: { subscribe(onEvents: (events: RunEvent[]) => void): () => void };
  paths: { dir: string };
  run: string;
  repoRoot: string;
  config: Config;
}): () => Promise<void> {
  const notifier = new Notifier({
    runDir: ctx.paths.dir,
    run: ctx.run,
    repoRoot: ctx.repoRoot,
    config: ctx.config.notify,
  });
  const off = ctx.journal.subscribe((evs) => notifier.handle(evs));
  return async () => {
    off();
    await notifier.idle();
  };
}

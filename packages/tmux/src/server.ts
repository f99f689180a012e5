import { mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { OrchError, shellQuote, traced } from '@orch/core';
import { chain, escapeFormat } from './args.js';
import { writeConfig } from './config.js';
import {
  DEFAULT_TMUX_TIMEOUT_MS,
  describe,
  isNoServer,
  isNotFound,
  isServerExiting,
  runTmux,
} from './exec.js';
import type { TmuxResult } from './exec.js';
import { exitChannel } from './names.js';

export interface TmuxServerOptions {
  /** The `-L` socket name (see `socketNameFor`). */
  socket: string;
  /** Config read when the server starts; `/dev/null` when absent, so the user's config never is. */
  configFile?: string;
  /** Time limit of each tmux call (default 10 s). */
  timeoutMs?: number;
  /** Extra environment for the tmux client (and so for a server it starts), e.g. `TMUX_TMPDIR`. */
  env?: Record<string, string>;
}

export interface NewSessionOptions {
  name: string;
  cwd: string;
  /** Program and arguments, executed directly (no shell parses them). */
  argv: readonly string[];
  env?: Record<string, string>;
  /** Everything the pane prints is appended here from its first byte. */
  logFile?: string;
  width?: number;
  height?: number;
}

export interface PaneInfo {
  session: string;
  paneId: string;
  pid: number;
  dead: boolean;
  /**
   * Exit code of a dead pane; null while alive, when a signal ended it, or for a moment after death
   * until tmux has reaped the process (`waitForExit` waits for it).
   */
  exitStatus: number | null;
  /** Signal that ended a dead pane, if any. */
  exitSignal: number | null;
  command: string;
}

export interface PaneState {
  exists: boolean;
  dead: boolean;
  exitStatus: number | null;
  exitSignal: number | null;
  pid: number | null;
}

export interface WaitResult extends PaneState {
  /** The time limit (or the abort signal) ended the wait while the pane was still alive. */
  timedOut: boolean;
}

const SESSION_NAME_RE = /^[A-Za-z0-9_-]{1,200}$/;
const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Unit separator: cannot occur in our session names, pane ids or numbers.
const SEP = '\x1f';
const PANE_FORMAT = [
  '#{session_name}',
  '#{pane_id}',
  '#{pane_pid}',
  '#{pane_dead}',
  '#{pane_dead_status}',
  '#{pane_dead_signal}',
  '#{pane_current_command}',
].join(SEP);
/** Polling interval when the pane-died hook cannot be used. */
const POLL_MS = 100;
/**
 * An event wait is re-armed this often, which also catches sessions killed from outside orch (a
 * session orch kills wakes its waiters at once; a worker's exit reaches the supervisor through its
 * wrapper's report). Each re-arm is three tmux processes per live worker: not every 2 s.
 */
const WAIT_SLICE_MS = 10_000;
/** tmux marks a pane dead at EOF and learns its exit status from SIGCHLD a moment later. */
const STATUS_GRACE_MS = 2_000;
const SERVER_EXIT_RETRIES = 4;
const NO_STATE: PaneState = { exists: false, dead: false, exitStatus: null, exitSignal: null, pid: null };

function num(s: string | undefined): number | null {
  return s === undefined || s === '' || !/^-?\d+$/.test(s) ? null : Number(s);
}

function parsePane(line: string): PaneInfo | null {
  const f = line.split(SEP);
  if (f.length < 7) return null;
  const pid = num(f[2]);
  return {
    session: f[0]!,
    paneId: f[1]!,
    pid: pid ?? 0,
    dead: f[3] === '1',
    exitStatus: f[3] === '1' ? num(f[4]) : null,
    exitSignal: f[3] === '1' ? num(f[5]) : null,
    command: f.slice(6).join(SEP),
  };
}

/** Dead, but tmux has not collected the exit status yet. */
function unreaped(p: PaneInfo): boolean {
  return p.dead && p.exitStatus === null && p.exitSignal === null;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((res) => {
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      res();
    }
  });
}

/**
 * A driver for one private tmux server (`tmux -L <socket> -f <config>`). Every call has a time
 * limit, every target is exact (`=name`), and nothing here ever talks to another server.
 */
export class TmuxServer {
  readonly socket: string;
  configFile: string | undefined;
  readonly timeoutMs: number;
  private readonly env: Record<string, string>;

  constructor(opts: TmuxServerOptions) {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(opts.socket)) {
      throw new OrchError(
        'ERR_ORCH_TMUX_BAD_SOCKET',
        `invalid tmux socket name ${JSON.stringify(opts.socket)}`,
        {
          hint: 'Use socketNameFor(repoRoot) to name the socket.',
        },
      );
    }
    this.socket = opts.socket;
    this.configFile = opts.configFile;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TMUX_TIMEOUT_MS;
    this.env = opts.env ?? {};
  }

  /**
   * Where tmux puts this server's socket: `$TMUX_TMPDIR` (or `/tmp`) + `tmux-<uid>/<socket>`. The
   * file outlives `kill-server`; whoever owns the socket may remove it afterwards.
   */
  socketPath(): string {
    const base = this.env.TMUX_TMPDIR ?? process.env.TMUX_TMPDIR ?? '/tmp';
    return join(base || '/tmp', `tmux-${process.getuid?.() ?? 0}`, this.socket);
  }

  /** Writes orch's own tmux config into `dir`, uses it from now on, and returns its path. */
  async ensureConfig(dir: string): Promise<string> {
    this.configFile = await writeConfig(dir);
    return this.configFile;
  }

  private base(): string[] {
    return ['-L', this.socket, '-f', this.configFile ?? '/dev/null'];
  }

  /**
   * Runs a sequence of tmux commands in one client call. A client that met a server on its way out
   * (it exits with its last session) is retried: that server and its panes are gone, so a retry
   * cannot act twice, and `new-session` then starts a fresh server.
   */
  private async exec(commands: readonly (readonly string[])[]): Promise<TmuxResult> {
    const args = [...this.base(), ...chain(commands)];
    for (let attempt = 1; ; attempt++) {
      const r = await runTmux(args, { timeoutMs: this.timeoutMs, env: this.env });
      if (r.exitCode === 0 || !isServerExiting(r.stderr) || attempt >= SERVER_EXIT_RETRIES) return r;
      await sleep(20 * attempt);
    }
  }

  private fail(commands: readonly (readonly string[])[], r: TmuxResult): OrchError {
    const what = describe(['-L', this.socket, ...chain(commands)]);
    if (isNotFound(r.stderr) || isNoServer(r.stderr)) {
      return new OrchError('ERR_ORCH_TMUX_NO_SESSION', `tmux ${what}: ${r.stderr.trim()}`, {
        hint: 'The session has ended or was never started; `orch state status` shows the run.',
      });
    }
    return new OrchError(
      'ERR_ORCH_TMUX_FAILED',
      `tmux ${what} failed (exit ${r.exitCode}): ${r.stderr.trim()}`,
    );
  }

  /**
   * Starts `argv` in a new detached session. Session, `remain-on-exit` and the log pipe are set up
   * in one tmux call, so a program that exits at once still keeps its pane and its output.
   */
  async newSession(opts: NewSessionOptions): Promise<{ paneId: string; pid: number }> {
    const { name } = opts;
    if (!SESSION_NAME_RE.test(name)) {
      throw new OrchError('ERR_ORCH_TMUX_BAD_NAME', `invalid tmux session name ${JSON.stringify(name)}`, {
        hint: 'Use sessionName(run, task); tmux rewrites `.` and `:` in names.',
      });
    }
    if (opts.argv.length === 0 || opts.argv[0] === '') {
      throw new OrchError('ERR_ORCH_TMUX_BAD_ARGV', `no program given for tmux session ${name}`);
    }
    const cwd = resolve(opts.cwd);
    const st = await stat(cwd).catch(traced('tmux.server.stat'));
    // tmux silently falls back to another directory when -c does not exist.
    if (!st?.isDirectory()) {
      throw new OrchError(
        'ERR_ORCH_TMUX_BAD_CWD',
        `working directory ${cwd} of session ${name} is not a directory`,
      );
    }
    const envArgs: string[] = [];
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (!ENV_KEY_RE.test(k)) {
        throw new OrchError(
          'ERR_ORCH_TMUX_BAD_ENV',
          `invalid environment variable name ${JSON.stringify(k)}`,
        );
      }
      envArgs.push('-e', `${k}=${v}`);
    }
    // tmux runs a one-element command through `sh -c`; a fixed script keeps the program unparsed.
    const argv = opts.argv.length === 1 ? ['/bin/sh', '-c', 'exec "$0"', opts.argv[0]!] : [...opts.argv];
    const target = `=${name}:`;
    const commands: string[][] = [
      [
        'new-session',
        '-d',
        '-P',
        '-F',
        `#{pane_id}${SEP}#{pane_pid}`,
        '-s',
        name,
        '-x',
        String(opts.width ?? 200),
        '-y',
        String(opts.height ?? 50),
        '-c',
        escapeFormat(cwd),
        ...envArgs,
        '--',
        ...argv,
      ],
      ['set-option', '-w', '-t', target, 'remain-on-exit', 'on'],
    ];
    if (opts.logFile !== undefined) {
      const log = resolve(opts.logFile);
      await mkdir(dirname(log), { recursive: true });
      commands.push(['pipe-pane', '-t', target, '-O', escapeFormat(`cat >> ${shellQuote(log)}`)]);
    }
    const r = await this.exec(commands);
    if (r.exitCode !== 0) {
      if (/duplicate session/.test(r.stderr)) {
        throw new OrchError(
          'ERR_ORCH_TMUX_DUPLICATE_SESSION',
          `tmux session ${name} already exists on ${this.socket}`,
          {
            hint: `Another worker holds it; stop it with \`tmux -L ${this.socket} kill-session -t =${name}\` if it is stale.`,
          },
        );
      }
      throw this.fail(commands, r);
    }
    const [paneId, pid] = (r.stdout.split('\n')[0] ?? '').split(SEP);
    if (!paneId?.startsWith('%') || num(pid) === null) {
      throw new OrchError(
        'ERR_ORCH_TMUX_FAILED',
        `tmux new-session ${name} printed no pane: ${JSON.stringify(r.stdout)}`,
      );
    }
    return { paneId, pid: num(pid)! };
  }

  /** Whether a session with exactly this name exists. */
  async hasSession(name: string): Promise<boolean> {
    const r = await this.exec([['has-session', '-t', `=${name}`]]);
    return r.exitCode === 0;
  }

  /** Every pane on the server, optionally only those whose session name starts with `prefix`. */
  listPanes(prefix?: string): Promise<PaneInfo[]> {
    return this.queryPanes(prefix, true);
  }

  private async queryPanes(prefix: string | undefined, nudge: boolean): Promise<PaneInfo[]> {
    const commands = [['list-panes', '-a', '-F', PANE_FORMAT]];
    const r = await this.exec(commands);
    if (r.exitCode !== 0) {
      if (isNoServer(r.stderr)) return [];
      throw this.fail(commands, r);
    }
    const panes: PaneInfo[] = [];
    for (const line of r.stdout.split('\n')) {
      const p = line ? parsePane(line) : null;
      if (p && (prefix === undefined || p.session.startsWith(prefix))) panes.push(p);
    }
    if (nudge && panes.some(unreaped)) {
      await this.nudgeReap();
      return this.queryPanes(prefix, false);
    }
    return panes;
  }

  /**
   * tmux 3.3a sometimes learns a pane's exit status only at its next SIGCHLD (seen for about one
   * pane in twenty under load; the pane reads dead with no status meanwhile). A short job of the
   * server's own makes it reap every exited child.
   */
  private async nudgeReap(): Promise<void> {
    await this.exec([['run-shell', 'true']]);
  }

  /** Whether the session exists, and whether its (first) pane's program has exited and how. */
  paneState(name: string): Promise<PaneState> {
    return this.queryState(name, true);
  }

  private async queryState(name: string, nudge: boolean): Promise<PaneState> {
    const commands = [['list-panes', '-s', '-t', `=${name}:`, '-F', PANE_FORMAT]];
    const r = await this.exec(commands);
    if (r.exitCode !== 0) {
      if (isNoServer(r.stderr) || isNotFound(r.stderr)) return { ...NO_STATE };
      throw this.fail(commands, r);
    }
    const p = parsePane(r.stdout.split('\n')[0] ?? '');
    if (!p) return { ...NO_STATE };
    if (nudge && unreaped(p)) {
      await this.nudgeReap();
      return this.queryState(name, false);
    }
    return { exists: true, dead: p.dead, exitStatus: p.exitStatus, exitSignal: p.exitSignal, pid: p.pid };
  }

  /** What the pane shows: the screen, or also `lines` of history; `escapes` keeps colours. */
  async capture(name: string, opts: { lines?: number; escapes?: boolean } = {}): Promise<string> {
    const args = ['capture-pane', '-p', '-J', '-t', `=${name}:`];
    if (opts.escapes) args.push('-e');
    if (opts.lines !== undefined) args.push('-S', `-${Math.max(0, Math.floor(opts.lines))}`);
    const r = await this.exec([args]);
    if (r.exitCode !== 0) throw this.fail([args], r);
    // The screen is padded with empty rows below the last output.
    return r.stdout.replace(/\n+$/, '');
  }

  /** Ends a session; one that does not exist (or no server) is fine. Wakes `waitForExit` callers. */
  async killSession(name: string): Promise<void> {
    const commands = [
      ['kill-session', '-t', `=${name}`],
      ['wait-for', '-S', exitChannel(name)],
    ];
    const r = await this.exec(commands);
    if (r.exitCode !== 0 && !isNotFound(r.stderr) && !isNoServer(r.stderr)) throw this.fail(commands, r);
  }

  /** Lets a session's pane close when its program exits (undoes `remain-on-exit`); gone is fine. */
  async closeOnExit(name: string): Promise<void> {
    const commands = [['set-option', '-w', '-t', `=${name}:`, 'remain-on-exit', 'off']];
    const r = await this.exec(commands);
    if (r.exitCode !== 0 && !isNotFound(r.stderr) && !isNoServer(r.stderr)) throw this.fail(commands, r);
  }

  /** Ends this server (only ever on our `-L` socket); no server is fine. */
  async killServer(): Promise<void> {
    const commands = [['kill-server']];
    const r = await this.exec(commands);
    if (r.exitCode !== 0 && !isNoServer(r.stderr)) throw this.fail(commands, r);
  }

  /** Types `text` literally (no key names, leading `-` is fine), then presses Enter in a separate call. */
  async sendText(name: string, text: string): Promise<void> {
    const target = `=${name}:`;
    const typeIt = ['send-keys', '-t', target, '-l', '--', text];
    if (text !== '') {
      const r = await this.exec([typeIt]);
      if (r.exitCode !== 0) throw this.fail([typeIt], r);
    }
    const enter = ['send-keys', '-t', target, 'Enter'];
    const r = await this.exec([enter]);
    if (r.exitCode !== 0) throw this.fail([enter], r);
  }

  /**
   * Resolves when the session's program has exited or the session is gone, or when `timeoutMs`
   * passes (`timedOut: true`). Event-based: a `pane-died` hook signals a `wait-for` channel. A
   * waiter also returns when the server dies, so the pane state is always re-read afterwards.
   */
  async waitForExit(name: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<WaitResult> {
    const deadline = Date.now() + opts.timeoutMs;
    const channel = exitChannel(name);
    const hook = await this.exec([
      ['set-hook', '-w', '-t', `=${name}:`, 'pane-died', `wait-for -S ${channel}`],
    ]);
    const evented = hook.exitCode === 0;
    let deadSince: number | undefined;
    for (;;) {
      const st = await this.paneState(name);
      if (!st.exists) return { ...st, timedOut: false };
      if (st.dead) {
        // The pane-died hook can fire before the status is known; give tmux a moment to reap it.
        deadSince ??= Date.now();
        const known = st.exitStatus !== null || st.exitSignal !== null;
        if (known || opts.signal?.aborted || Date.now() - deadSince >= STATUS_GRACE_MS)
          return { ...st, timedOut: false };
        await sleep(POLL_MS / 5, opts.signal);
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0 || opts.signal?.aborted) return { ...st, timedOut: true };
      if (evented) await this.waitChannel(channel, Math.min(left, WAIT_SLICE_MS), opts.signal);
      else await sleep(Math.min(left, POLL_MS), opts.signal);
    }
  }

  /**
   * Blocks on a `wait-for` channel for at most `ms`. The waiter is released by signalling the
   * channel rather than by killing it: tmux keeps a killed waiter registered, and it would swallow
   * the next signal.
   */
  private async waitChannel(channel: string, ms: number, signal?: AbortSignal): Promise<void> {
    const waiter = runTmux([...this.base(), 'wait-for', channel], {
      env: this.env,
      // Last resort only; normally the release below ends it.
      timeoutMs: ms + this.timeoutMs,
    }).catch(traced('tmux.server.wait-for'));
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      void this.exec([['wait-for', '-S', channel]]).catch(traced('tmux.server.exec'));
    };
    const timer = setTimeout(release, ms);
    signal?.addEventListener('abort', release, { once: true });
    try {
      await waiter;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', release);
    }
  }
}

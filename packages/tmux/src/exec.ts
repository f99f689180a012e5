import { OrchError, runProgram } from '@orch/core';

export const TMUX_INSTALL_HINT =
  'Install tmux 3.2 or newer (Debian/Ubuntu: `apt install tmux`, macOS: `brew install tmux`) and make sure it is on PATH.';

/** Default time limit of one tmux call. */
export const DEFAULT_TMUX_TIMEOUT_MS = 10_000;

export interface TmuxResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The server is not running: a stale socket or no socket at all (both exit 1). */
export function isNoServer(stderr: string): boolean {
  return /no server running on|error connecting to|server exited unexpectedly/.test(stderr);
}

/** The client reached a server that was exiting (e.g. right after its last session ended). */
export function isServerExiting(stderr: string): boolean {
  return /server exited unexpectedly/.test(stderr);
}

/** The target session, window or pane does not exist. */
export function isNotFound(stderr: string): boolean {
  return /can't find (session|window|pane)/.test(stderr);
}

/**
 * The environment of a tmux client. `TMUX` and `TMUX_PANE` are dropped so that nothing about the
 * user's own tmux (when orch runs inside it) leaks into our server, which inherits this environment.
 */
export function clientEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && k !== 'TMUX' && k !== 'TMUX_PANE') env[k] = v;
  }
  return { ...env, ...overrides };
}

export interface RunTmuxOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** Output without its final newline, as tmux callers parse it. */
function text(b: Buffer): string {
  const s = b.toString('utf8');
  return s.endsWith('\r\n') ? s.slice(0, -2) : s.endsWith('\n') ? s.slice(0, -1) : s;
}

/**
 * Runs `tmux <args>` without a shell (through the supervisor's spawn helper when it is on). Never
 * rejects for a non-zero exit (callers classify stderr); throws an OrchError when tmux is missing
 * or the call times out.
 */
export async function runTmux(args: readonly string[], opts: RunTmuxOptions = {}): Promise<TmuxResult> {
  const timeout = opts.timeoutMs ?? DEFAULT_TMUX_TIMEOUT_MS;
  const r = await runProgram({
    file: 'tmux',
    args,
    cwd: process.cwd(),
    env: clientEnv(opts.env),
    timeoutMs: timeout,
  });
  if (r.spawnError?.code === 'ENOENT') {
    throw new OrchError('ERR_ORCH_TMUX_MISSING', 'tmux was not found on PATH', { hint: TMUX_INSTALL_HINT });
  }
  if (r.timedOut) {
    throw new OrchError(
      'ERR_ORCH_TMUX_TIMEOUT',
      `tmux ${describe(args)} did not answer within ${timeout} ms`,
      {
        hint: 'The tmux server may be overloaded or stuck; `orch` kills its own server with `kill-server` on its socket.',
      },
    );
  }
  return {
    exitCode: r.code ?? 1,
    stdout: text(r.stdout),
    stderr: r.spawnError ? r.spawnError.message : text(r.stderr),
  };
}

/** A short label for messages: the socket and the tmux commands, without their (untrusted) arguments. */
export function describe(args: readonly string[]): string {
  const words: string[] = [];
  let expectCommand = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-L' || a === '-f') {
      if (a === '-L') words.push(`-L ${args[i + 1] ?? ''}`);
      i++;
      continue;
    }
    if (a === ';') expectCommand = true;
    else if (expectCommand) {
      words.push(a);
      expectCommand = false;
    }
  }
  return words.join(' ');
}

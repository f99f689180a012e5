import { OrchError, runProgram } from '@orch/core';

export interface GitOptions {
  cwd?: string;
  input?: string | Uint8Array;
  env?: Record<string, string>;
  /** Throw an OrchError on a non-zero exit (default true). Pass false when the exit code is data. */
  reject?: boolean;
  /** Milliseconds before git is killed (default GIT_TIMEOUT_MS). */
  timeout?: number;
  /** Keep the output's final newline (file contents). */
  keepFinalNewline?: boolean;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Every git call is bounded: a hung hook or credential prompt must not hang a run. */
export const GIT_TIMEOUT_MS = 120_000;

/** Inherited variables that would point git at another repository or index than the one we mean. */
const REPO_ENV = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_COMMON_DIR',
  'GIT_PREFIX',
  'GIT_OBJECT_DIRECTORY',
];

function gitEnv(extra: Record<string, string> | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !REPO_ENV.includes(k)) env[k] = v;
  // English messages (the race retries match on them) and no interactive prompts.
  env.LC_ALL = 'C';
  env.LANGUAGE = 'C';
  env.GIT_TERMINAL_PROMPT = '0';
  return { ...env, ...extra };
}

/**
 * Put before every git command orch runs: no hook of the repository (which a worker can write) and no
 * fsmonitor command ever runs under orch's name, in the user's checkout, staging or a worktree.
 */
export const SAFE_GIT_CONFIG: readonly string[] = [
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'core.fsmonitor=false',
];

/** After a timeout's SIGTERM (git removes its lock files on it), SIGKILL follows this much later. */
const KILL_AFTER_MS = 5_000;

/**
 * Node's own spawn (through the supervisor's spawn helper when it is on), not execa: git is orch's
 * most frequent child process (thousands per run and test set), and execa's per-process set-up
 * costs about twice the parent's CPU of a bare spawn.
 */
async function spawnGit(args: string[], cwd: string, opts: GitOptions) {
  const r = await runProgram({
    file: 'git',
    args,
    cwd,
    env: gitEnv(opts.env),
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    timeoutMs: opts.timeout ?? GIT_TIMEOUT_MS,
    killAfterMs: KILL_AFTER_MS,
    // A process group of its own: the SIGHUP of a closing terminal (or its Ctrl-C) reaches orch,
    // which outlives it or stops cleanly, never a merge or checkout it has in flight.
    detached: true,
  });
  const text = (b: Buffer): string => {
    const s = b.toString('utf8');
    if (opts.keepFinalNewline) return s;
    return s.endsWith('\r\n') ? s.slice(0, -2) : s.endsWith('\n') ? s.slice(0, -1) : s;
  };
  return { ...r, stdout: text(r.stdout), stderr: text(r.stderr) };
}

/** Runs `git <args>` in `cwd` with an argument array (never a shell), a timeout and a clean environment. */
export async function runGit(args: string[], opts: GitOptions = {}): Promise<GitResult> {
  const cwd = opts.cwd ?? process.cwd();
  const r = await spawnGit([...SAFE_GIT_CONFIG, ...args], cwd, opts);
  const where = `git ${args.join(' ')} (in ${cwd})`;
  if (r.timedOut) {
    throw new OrchError('ERR_ORCH_GIT_TIMEOUT', `${where} did not finish in time`, {
      hint: 'A git hook or a lock held by another process may be stuck; check `ps` for git processes.',
    });
  }
  if (r.spawnError) {
    const cause = Object.assign(new Error(r.spawnError.message), { code: r.spawnError.code });
    throw new OrchError('ERR_ORCH_GIT_NOT_FOUND', `could not run ${where}: ${r.spawnError.message}`, {
      hint: 'Install git (2.38 or newer) and make sure it is on PATH.',
      cause,
    });
  }
  const result: GitResult =
    r.code === null
      ? {
          stdout: r.stdout,
          stderr: r.lost ? r.stderr : `${r.stderr}\n(git was killed by ${r.signal ?? 'a signal'})`,
          exitCode: 128,
        }
      : { stdout: r.stdout, stderr: r.stderr, exitCode: r.code };
  if (opts.reject !== false && result.exitCode !== 0) throw gitFailed(where, result);
  return result;
}

export function gitFailed(where: string, r: GitResult): OrchError {
  const msg = (r.stderr || r.stdout).trim();
  return new OrchError('ERR_ORCH_GIT_FAILED', `${where} exited with ${r.exitCode}: ${msg}`, {
    details: { exitCode: r.exitCode, stderr: r.stderr },
  });
}

/** Splits NUL-separated output, dropping the empty tail. */
export function splitNul(s: string): string[] {
  const parts = s.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** Commit identity for orch-made commits when the repository has none configured (CI, fresh machines). */
export function identityEnv(cwd: string): Promise<Record<string, string>> {
  // Asked on every orch commit and merge (retries included): two git processes, once per directory.
  let known = identities.get(cwd);
  if (!known) {
    known = lookupIdentity(cwd);
    identities.set(cwd, known);
  }
  return known;
}

const identities = new Map<string, Promise<Record<string, string>>>();

async function lookupIdentity(cwd: string): Promise<Record<string, string>> {
  const a = await runGit(['var', 'GIT_AUTHOR_IDENT'], { cwd, reject: false });
  const c = await runGit(['var', 'GIT_COMMITTER_IDENT'], { cwd, reject: false });
  if (a.exitCode === 0 && c.exitCode === 0) return {};
  return {
    GIT_AUTHOR_NAME: 'orch',
    GIT_AUTHOR_EMAIL: 'orch@localhost',
    GIT_COMMITTER_NAME: 'orch',
    GIT_COMMITTER_EMAIL: 'orch@localhost',
  };
}

/** Rejects values that git would read as options. */
export function assertNotOption(value: string, what: string): void {
  if (value.startsWith('-') || value.includes('\0') || value === '') {
    throw new OrchError('ERR_ORCH_INVALID_REF', `invalid ${what}: ${JSON.stringify(value)}`);
  }
}

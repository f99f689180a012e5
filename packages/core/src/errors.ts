/**
 * The one error type of orch. Every failure a user can meet carries a stable string code
 * (`ERR_ORCH_*`), a message that says what and where, and optionally a hint that says how to fix it.
 * The CLI prints `code: message` and the hint, never a stack (unless ORCH_DEBUG=1).
 */

/** Process exit codes, stable across releases (the one catalogue: `docs/cli.md` lists it). */
export const ExitCode = {
  Ok: 0,
  /** The check failed, the run failed, or the input is invalid. */
  Failed: 1,
  /** The command line itself is wrong. */
  Usage: 2,
  /** A human is needed: the plan needs approval, or the run needs attention. */
  NeedsApproval: 3,
  /** The run is still going (a wait timed out) or was stopped before it finished (resume continues it). */
  NotFinished: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** What each exit code means, in words, for help texts and docs. */
export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCode, string>> = {
  0: 'ok',
  1: 'failed',
  2: 'usage: the command line is wrong',
  3: 'needs you: the plan needs approval, or the run needs attention',
  4: 'not finished: the run is still going, or it was stopped (orch state resume continues it)',
};

/**
 * Every error code of orch, with what it means (the one list: `docs/errors.md` gives each its hint,
 * and a test keeps the two in step). One code per condition; `OrchError` takes only these.
 */
export const ERROR_CODES = {
  ERR_ORCH_AGENT_COMMAND_MISSING:
    'The `command` agent is used but `agents.command` is not set in the config.',
  ERR_ORCH_AGENT_MISSING: 'The plan uses an agent whose CLI is not installed.',
  ERR_ORCH_AGENT_NOT_FOUND: "The planner's agent CLI was not found.",
  ERR_ORCH_AGENT_PROMPT_UNREADABLE: "The worker's system prompt file cannot be read.",
  ERR_ORCH_ARCHIVE: 'No free archive branch name was found for a commit being archived.',
  ERR_ORCH_ASSETS_NOT_FOUND: 'The agent definitions and skill shipped with orch were not found.',
  ERR_ORCH_BRANCH_CHECKED_OUT: 'The branch is already checked out in another worktree.',
  ERR_ORCH_BRANCH_EXISTS: 'A branch orch wants to create already exists (at another commit).',
  ERR_ORCH_CONFIG_INVALID: 'The configuration file (or one of its patterns) is invalid.',
  ERR_ORCH_CONFIG_NOT_FOUND: 'The config file given with `--config` does not exist.',
  ERR_ORCH_CONFIRM: 'A destructive command (abort, clean) was not confirmed.',
  ERR_ORCH_CONTEXT_NOT_FOUND: 'No shared context entry has that key.',
  ERR_ORCH_CORRUPT_FILE: 'A JSON file under `.orchestrator/` is not valid JSON.',
  ERR_ORCH_DEMO_DIR_NOT_EMPTY: 'The folder given to `orch demo` is not empty.',
  ERR_ORCH_DEPS_BAD_SPEC: 'A dependency request names something that is not a plain package spec.',
  ERR_ORCH_DEPS_CONFLICT: 'Dependency requests conflict with each other or with staging.',
  ERR_ORCH_DEPS_INSTALL: 'Installing an approved dependency failed.',
  ERR_ORCH_DEPS_NONE: 'There is no pending dependency request (for that task).',
  ERR_ORCH_DEPS_NO_MANAGER: "orch cannot tell the project's package manager.",
  ERR_ORCH_DISK_FULL: "Too little disk space is free to start the run's worktrees.",
  ERR_ORCH_FF_FAILED: 'A worktree cannot be fast-forwarded to a commit.',
  ERR_ORCH_FRONTMATTER: 'An agent or skill file has no valid `---` frontmatter block.',
  ERR_ORCH_GIT_FAILED: 'A git command failed.',
  ERR_ORCH_GIT_NOT_FOUND: 'git could not be run.',
  ERR_ORCH_GIT_TIMEOUT: 'A git command did not finish in time.',
  ERR_ORCH_GIT_VERSION: 'git is too old, or its version cannot be read.',
  ERR_ORCH_HOST_IDENTITY:
    "A worker host's identity keys (`DIR/identity/`) are readable by others, not its user's, or damaged.",
  ERR_ORCH_HOST_UNTRUSTED: 'A distributed run names no trusted worker host (`store.trusted_hosts`).',
  ERR_ORCH_ILLEGAL_TRANSITION: "A task event the lifecycle table forbids in the task's status was refused.",
  ERR_ORCH_INIT_EXISTS: '`orch init` found a config file or a plan it would overwrite.',
  ERR_ORCH_INSTALL_EDITED: '`orch install` found locally edited files and did not overwrite them.',
  ERR_ORCH_INTERNAL: 'An unexpected error (a bug in orch).',
  ERR_ORCH_INVALID_BRANCH: 'A branch name is not valid for git.',
  ERR_ORCH_INVALID_EVENT: 'An event does not match the run-event schema.',
  ERR_ORCH_INVALID_INPUT: 'A required text (a summary, a message) is empty or too long.',
  ERR_ORCH_INVALID_KEY: 'A context key is not valid.',
  ERR_ORCH_INVALID_MESSAGE: 'A mailbox message has an unknown type or lacks a field its type needs.',
  ERR_ORCH_INVALID_NAME: 'A run id, task id or similar name is not safe to use in paths and refs.',
  ERR_ORCH_INVALID_PATTERN: 'An exclude pattern given to git is not valid.',
  ERR_ORCH_INVALID_REF: 'A ref, commit or target is not valid (or not a full `refs/...` name).',
  ERR_ORCH_INVALID_VALUE: 'A context value is empty or too large.',
  ERR_ORCH_JOURNAL_WRITE: 'A journal line could not be written in full.',
  ERR_ORCH_LOCK_TIMEOUT: 'A lock file stayed held by another live process past the wait.',
  ERR_ORCH_MERGE_FAILED: 'git merge-tree or a merge in a worktree failed.',
  ERR_ORCH_MESSAGE_TOO_LARGE: 'A message or report is larger than the limit.',
  ERR_ORCH_NEEDS_APPROVAL: "The plan's risk needs your approval before it runs.",
  ERR_ORCH_NOT_A_REPO:
    'The folder is not inside a git repository with a working tree (or ORCH_ROOT is not a folder).',
  ERR_ORCH_NOT_BUILT: 'orch is not built: a file of its build is missing.',
  ERR_ORCH_NOT_YOUR_TASK: 'A worker named another task than its own (`--task`, `--from`).',
  ERR_ORCH_NO_BASE: 'orch cannot tell which branch to build on (detached HEAD, or the base does not exist).',
  ERR_ORCH_NO_COMMITS: 'The repository (or the base branch) has no commits yet.',
  ERR_ORCH_NO_INBOX: 'No inbox was named and none is implied (outside a worker).',
  ERR_ORCH_NO_RUN: 'There is no orch run in this repository to act on.',
  ERR_ORCH_NO_TASK: "No task was named, or a worker's environment is incomplete.",
  ERR_ORCH_PATH_INVALID: 'A path in a plan is absolute, leaves the repository or points into `.git/`.',
  ERR_ORCH_PLANNER_FAILED: 'The planner agent failed.',
  ERR_ORCH_PLAN_INVALID: 'The plan does not pass validation (schema, ids, DAG, ownership).',
  ERR_ORCH_PLAN_NOT_FOUND: 'The plan file does not exist or is not a file.',
  ERR_ORCH_PLAN_NOT_VALID: 'The planner did not produce a valid plan in its rounds.',
  ERR_ORCH_PLAN_OUTPUT: 'The plan file to write is outside the repository.',
  ERR_ORCH_PLAN_REJECTED: 'The plan does not pass `orch plan check`, or would run tasks with no script.',
  ERR_ORCH_PLAN_UNREADABLE: "The run's frozen plan cannot be read or has no task list.",
  ERR_ORCH_REF_CHECKED_OUT: 'orch refused to move a branch that is checked out in a worktree.',
  ERR_ORCH_REF_MOVED: 'A compare-and-swap ref update found the ref elsewhere than expected.',
  ERR_ORCH_REF_NOT_FOUND: 'A branch or ref does not exist.',
  ERR_ORCH_REF_TAMPERED: 'A ref orch owns (the staging branch) was moved by something other than orch.',
  ERR_ORCH_REMOTE: "The run's git remote (`--remote`) refused a fetch or a push, or cannot be reached.",
  ERR_ORCH_REPORT_REFUSED:
    'The supervisor refused a report or message (token, task, type, schema, size or state).',
  ERR_ORCH_RUN_ABORTED: 'The run was aborted; it cannot be resumed.',
  ERR_ORCH_RUN_FINISHED: 'The run has already finished; it takes no more reports or aborts.',
  ERR_ORCH_RUN_ID: 'No new run id could be allocated.',
  ERR_ORCH_RUN_KEY: "The run's key (`journal.key`) is missing or unreadable.",
  ERR_ORCH_RUN_LIVE: "The run (or a task's worktree) still belongs to a live supervisor.",
  ERR_ORCH_RUN_LOCKED: "The run's supervisor is still running (it holds the supervisor lock).",
  ERR_ORCH_RUN_IN_STORE:
    "The run's journal is in a Redis store, not in this checkout (a distributed run): the command needs `--store`.",
  ERR_ORCH_RUN_NOT_FOUND: 'The run does not exist, or has no journal (no events) yet.',
  ERR_ORCH_SANDBOX_LAYOUT: "A task's worktree does not link into the repository's git directory.",
  ERR_ORCH_SANDBOX_UNAVAILABLE: '`workers.sandbox` is on, but the sandbox cannot run here.',
  ERR_ORCH_SETTINGS_INVALID: 'A Claude Code settings file orch was to add permission rules to is not valid.',
  ERR_ORCH_SETUP_FAILED: 'The worktree setup command failed.',
  ERR_ORCH_SHELL_NO_SCRIPT: 'A task uses the shell agent but has no `run` script.',
  ERR_ORCH_STORE_UNREACHABLE:
    'The Redis store of a distributed run cannot be reached, refused the password, or its TLS connection failed.',
  ERR_ORCH_STORE_URL:
    'A `--store` URL is not a `redis://HOST:PORT/DB` (or `rediss://`) URL without a password, or TLS files are set for `redis://`.',
  ERR_ORCH_SUPERVISOR_GONE:
    'No supervisor of the distributed run is live to carry out a command only it may carry out.',
  ERR_ORCH_SUPERVISOR_LEASE: "Another supervisor holds the run's lease in Redis (or this one lost it).",
  ERR_ORCH_TASK_FINISHED: 'The task has already finished; it takes no more reports.',
  ERR_ORCH_TASK_NOT_STARTED: 'The task has no worktree yet, so it cannot be verified.',
  ERR_ORCH_TEMPLATE_MISSING: "A contract template is missing from orch's install.",
  ERR_ORCH_TMUX_BAD_ARGV: 'No program was given for a tmux session.',
  ERR_ORCH_TMUX_BAD_CWD: "A session's working directory is not a directory.",
  ERR_ORCH_TMUX_BAD_ENV: 'An environment variable name for a session is invalid.',
  ERR_ORCH_TMUX_BAD_NAME: 'A tmux session name is invalid.',
  ERR_ORCH_TMUX_BAD_SOCKET: 'A tmux socket name is invalid.',
  ERR_ORCH_TMUX_DUPLICATE_SESSION: 'A tmux session of that name already exists.',
  ERR_ORCH_TMUX_FAILED: 'A tmux command failed.',
  ERR_ORCH_TMUX_MISSING: 'tmux was not found on PATH.',
  ERR_ORCH_TMUX_NO_SESSION: 'The tmux session has ended or was never started.',
  ERR_ORCH_TMUX_TIMEOUT: 'tmux did not answer in time.',
  ERR_ORCH_TMUX_TOO_OLD: 'tmux is too old.',
  ERR_ORCH_UNKNOWN_AGENT: 'The agent named is not one orch knows.',
  ERR_ORCH_UNKNOWN_RECIPIENT: 'A message names a recipient that is not a task of the run.',
  ERR_ORCH_UNKNOWN_TASK: 'The task is not part of the run (or the plan).',
  ERR_ORCH_UNSAFE_PATH: 'A path would leave the repository.',
  ERR_ORCH_USAGE: 'The command line is incomplete or inconsistent.',
  ERR_ORCH_VERIFIED_MISMATCH: 'The commit to merge does not have the tree that was verified.',
  ERR_ORCH_WORKTREE_ADD: '`git worktree add` failed.',
  ERR_ORCH_WORKTREE_EXISTS: 'The path is already a worktree of another branch.',
  ERR_ORCH_WORKTREE_LOCK_REASON: 'A worktree lock reason is not one line.',
  ERR_ORCH_WORKTREE_MISSING: "The task's worktree does not exist.",
  ERR_ORCH_WORKTREE_NOT_FOUND: 'The path is not a worktree of the repository.',
  ERR_ORCH_WORKTREE_PATH: 'The path cannot be used for a worktree (inside the git directory, or not empty).',
  ERR_ORCH_WORKTREE_REMOVE: '`git worktree remove` failed.',
  ERR_ORCH_WORKTREE_TAKEN: "A task's worktree path is taken by something else.",
  ERR_ORCH_WRITE_FAILED: 'An output file could not be written.',
} as const satisfies Record<`ERR_ORCH_${string}`, string>;
export type ErrorCode = keyof typeof ERROR_CODES;

export interface OrchErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Exit code the CLI uses for this error (default 1). */
  exitCode?: number;
  /** Structured details for `--json` output. */
  details?: Record<string, unknown>;
}

export class OrchError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly exitCode: number;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: OrchErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'OrchError';
    this.code = code;
    if (opts.hint !== undefined) this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? ExitCode.Failed;
    if (opts.details !== undefined) this.details = opts.details;
  }

  /** Whether this is the error of `code` (branch on this, never on `.code` strings). */
  is(code: ErrorCode): boolean {
    return this.code === code;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/**
 * A ref orch owns (the run's staging branch) is not where orch last wrote it: someone else moved it.
 * orch stops and never builds on, integrates or promotes such a ref.
 */
export const ERR_ORCH_REF_TAMPERED = 'ERR_ORCH_REF_TAMPERED' satisfies ErrorCode;

/** Whether `e` is an OrchError (of `code`, when given). */
export function isOrchError(e: unknown, code?: ErrorCode): e is OrchError {
  return e instanceof OrchError && (code === undefined || e.code === code);
}

/** Wraps anything thrown into an OrchError, keeping the original as `cause`. */
export function toOrchError(e: unknown, code: ErrorCode = 'ERR_ORCH_INTERNAL'): OrchError {
  if (e instanceof OrchError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new OrchError(code, message, { cause: e });
}

/** A worker named another task (`--task`, `--from`) than its own: it speaks only for itself. */
export const ERR_NOT_YOUR_TASK = 'ERR_ORCH_NOT_YOUR_TASK' satisfies ErrorCode;
/** The supervisor refused a report or message (token, task, type, schema, size or state). */
export const ERR_REPORT_REFUSED = 'ERR_ORCH_REPORT_REFUSED' satisfies ErrorCode;
/** The run's key (journal.key) is missing or unreadable: only its user, outside a worker, has it. */
export const ERR_RUN_KEY = 'ERR_ORCH_RUN_KEY' satisfies ErrorCode;
/**
 * The supervisor tried to journal a task event the lifecycle table (`core/src/run/lifecycle.ts`)
 * forbids in the task's status, e.g. `task.ready` on a merged task: a bug in orch, refused.
 */
export const ERR_ILLEGAL_TRANSITION = 'ERR_ORCH_ILLEGAL_TRANSITION' satisfies ErrorCode;
/** A Claude Code settings file orch was to add permission rules to is not a valid settings object. */
export const ERR_SETTINGS_INVALID = 'ERR_ORCH_SETTINGS_INVALID' satisfies ErrorCode;

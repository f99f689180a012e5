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

export interface OrchErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Exit code the CLI uses for this error (default 1). */
  exitCode?: number;
  /** Structured details for `--json` output. */
  details?: Record<string, unknown>;
}

export class OrchError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly exitCode: number;
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, opts: OrchErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'OrchError';
    this.code = code.startsWith('ERR_ORCH_') ? code : `ERR_ORCH_${code}`;
    if (opts.hint !== undefined) this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? ExitCode.Failed;
    if (opts.details !== undefined) this.details = opts.details;
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
export const ERR_ORCH_REF_TAMPERED = 'ERR_ORCH_REF_TAMPERED';

export function isOrchError(e: unknown): e is OrchError {
  return e instanceof OrchError;
}

/** Wraps anything thrown into an OrchError, keeping the original as `cause`. */
export function toOrchError(e: unknown, code = 'ERR_ORCH_INTERNAL'): OrchError {
  if (e instanceof OrchError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new OrchError(code, message, { cause: e });
}

/** A worker named another task (`--task`, `--from`) than its own: it speaks only for itself. */
export const ERR_NOT_YOUR_TASK = 'ERR_ORCH_NOT_YOUR_TASK';
/** The supervisor refused a report or message (token, task, type, schema, size or state). */
export const ERR_REPORT_REFUSED = 'ERR_ORCH_REPORT_REFUSED';
/** The run's key (journal.key) is missing or unreadable: only its user, outside a worker, has it. */
export const ERR_RUN_KEY = 'ERR_ORCH_RUN_KEY';
/**
 * The supervisor tried to journal a task event the lifecycle table (`core/src/run/lifecycle.ts`)
 * forbids in the task's status, e.g. `task.ready` on a merged task: a bug in orch, refused.
 */
export const ERR_ILLEGAL_TRANSITION = 'ERR_ORCH_ILLEGAL_TRANSITION';
/** A Claude Code settings file orch was to add permission rules to is not a valid settings object. */
export const ERR_SETTINGS_INVALID = 'ERR_ORCH_SETTINGS_INVALID';

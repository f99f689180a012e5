/**
 * What the supervisor does next, decided without doing anything (pure): from the run state (the
 * journal's reducer), the plan's priorities, the config and the few facts only the running
 * supervisor knows (which tasks it is driving, what its last effect found), a list of commands as
 * plain data. The effects runner (`supervisor.ts`) carries them out with the ports and comes back
 * with the next fact. Whatever must survive a restart is journaled by a command first (a pending
 * retry, a block, a throttle), so a resumed supervisor decides the same from the state.
 *
 * Two levels: `decideRun` is the run's loop (ready tasks, who starts within the worker limit, the
 * needs-attention phase, finishing); `decideTask` is one task's driver, from launch to merged or
 * failed for good. What happens inside one attempt (report, exit, pane gone, deadline, silence) is
 * `nextStep`'s table (`watch-step.ts`).
 */
import {
  allFinished,
  dependentsToCancel,
  newlyReady,
  onlyWaitingOnHumans,
  pickToStart,
  workerLimit,
  type EvidenceSource,
  type FailureCategory,
  type RunEventInput,
  type RunState,
  type TaskState,
  type TaskStatus,
} from '@orch/core';
import { halved, recovered } from './throttle.js';

/** What a retry's prompt says about the attempt before. */
export interface RetryInfo {
  category: string;
  reason: string;
  report?: string;
}

/** `report` is what the retry prompt and the escalation report say; `detail` its few-line form. */
export type Failure = RetryInfo & { category: FailureCategory; source: EvidenceSource; detail?: string };

/** The one commit verification pinned, and its tree: exactly what is merged. */
export interface Pin {
  commit: string;
  tree: string;
}

/** How one attempt's worker ended, as the watch effect found it. */
export type WorkerOutcome =
  | { kind: 'done'; evidence: string }
  | ({ kind: 'failed' } & Failure)
  | { kind: 'blocked'; needs?: string; reason: string }
  | { kind: 'paused'; on: string }
  | { kind: 'rate_limit'; message: string; resetAt?: string }
  | { kind: 'stopped' };

/** How the next attempt is told what happened before (besides a journaled pending retry). */
export interface LaunchHint {
  retry?: RetryInfo;
  /** The attempt before was stopped mid-way (a blocked-on pause, a resume): its progress goes along. */
  interrupted?: boolean;
}

/** How a driver takes its task: fresh from the scheduler, or as a resume hands it over. */
export type Begin =
  | { mode: 'schedule'; hint?: LaunchHint }
  | { mode: 'restart'; hint?: LaunchHint }
  | { mode: 'watch' }
  | { mode: 'verify' }
  | { mode: 'wait' };

/** What a task's driver learned last: how it began, or what its last effect found. */
export type TaskFact =
  | { kind: 'begin'; how: Begin }
  | { kind: 'worker'; outcome: WorkerOutcome; launched: LaunchHint }
  /** Verification passed on this commit. */
  | { kind: 'verified'; pin: Pin }
  /** Verification failed, or the merge: merged, or why not. */
  | { kind: 'checked'; result: 'merged' | Failure }
  /** A failure with the verifier's diagnosis added (or as it was). */
  | { kind: 'diagnosed'; retry: RetryInfo; reason: string; category: FailureCategory }
  /** A rate limit's pause is over. */
  | { kind: 'limit_over'; launched: LaunchHint }
  /** The task it waited for finished, with this status. */
  | { kind: 'settled'; on: string; status: TaskStatus; launched: LaunchHint }
  /** Someone decided on its request (`orch deps approve|deny`): the journaled reason. */
  | { kind: 'decided'; reason: string };

export type WaitFor =
  | { kind: 'time'; ms: number; then: LaunchHint }
  | { kind: 'task_finished'; task: string; then: LaunchHint }
  /** A `task.unblocked` journaled by someone else. */
  | { kind: 'unblocked' };

export type TaskCommand =
  /** Start attempt `attempt` and watch it (fact: `worker`). */
  | { kind: 'launch'; attempt: number; retry?: RetryInfo; interrupted?: boolean }
  /** Watch the live attempt again (fact: `worker`). */
  | { kind: 'watch'; attempt: number }
  /** Verify the worker's commit, in a verify lane (fact: `verified`, or `checked` with the failure). */
  | { kind: 'verify' }
  /** Land the pinned commit through the merge queue (fact: `checked`). */
  | { kind: 'merge'; pin: Pin }
  | { kind: 'journal'; event: RunEventInput }
  /** Ask the verifier agent about a failed check (fact: `diagnosed`). */
  | { kind: 'diagnose'; failure: Failure }
  | { kind: 'wait'; until: WaitFor }
  /** Merge the verified staging tip into the task's worktree. */
  | { kind: 'sync_staging' }
  /** A merged task's session, worktree and branch go (anything after the pin is archived). */
  | { kind: 'cleanup_merged' }
  /** The driver ends; the scheduler starts the next attempt when a worker slot is free. */
  | { kind: 'requeue'; hint: LaunchHint }
  | { kind: 'end' };

export interface DecideConfig {
  maxRetries: number;
  /** Seconds a rate limit pauses a task when it names no reset time. */
  rateLimitWaitSec: number;
  now: number;
}

/** A failure's report in the journal: enough for the escalation report and `orch state status`. */
export const MAX_REPORT_CHARS = 8_000;
/** The longest a rate limit's named reset is waited for. */
const MAX_LIMIT_WAIT_MS = 6 * 3600_000;

const retryOf = (t: TaskState): LaunchHint => (t.pendingRetry ? { retry: t.pendingRetry } : {});

function launch(t: TaskState, hint: LaunchHint = {}): TaskCommand {
  // A retry journaled by a supervisor that stopped before starting it keeps its report.
  const retry = hint.retry ?? t.pendingRetry;
  return {
    kind: 'launch',
    attempt: t.attempt + 1,
    ...(retry ? { retry } : {}),
    ...(hint.interrupted ? { interrupted: true } : {}),
  };
}

const verify = (id: string): TaskCommand[] => [
  { kind: 'journal', event: { type: 'task.verifying', task: id } },
  { kind: 'verify' },
];

/** The next commands of one task's driver. */
export function decideTask(state: RunState, id: string, fact: TaskFact, cfg: DecideConfig): TaskCommand[] {
  const t = state.tasks[id] as TaskState;
  switch (fact.kind) {
    case 'begin':
      return begin(state, t, fact.how, cfg);
    case 'worker':
      return afterWorker(state, t, fact.outcome, fact.launched, cfg);
    case 'verified':
      return [
        { kind: 'journal', event: { type: 'task.merging', task: id } },
        { kind: 'merge', pin: fact.pin },
      ];
    case 'checked':
      return fact.result === 'merged' ? afterMerge(state, id) : afterFailure(state, t, fact.result, cfg);
    case 'diagnosed':
      return [
        {
          kind: 'journal',
          event: {
            type: 'task.retry',
            task: id,
            attempt: t.attempt + 1,
            reason: fact.reason,
            category: fact.category,
            ...(fact.retry.report ? { report: fact.retry.report } : {}),
          },
        },
        { kind: 'requeue', hint: {} },
      ];
    case 'limit_over':
      return [
        { kind: 'journal', event: { type: 'task.unblocked', task: id, reason: 'limit reset' } },
        { kind: 'requeue', hint: fact.launched.retry ? { retry: fact.launched.retry } : {} },
      ];
    case 'settled':
      return [
        {
          kind: 'journal',
          event: {
            type: 'task.unblocked',
            task: id,
            reason:
              fact.status === 'merged'
                ? `${fact.on} is merged into staging`
                : `${fact.on} ended ${fact.status}; go on without it`,
          },
        },
        { kind: 'sync_staging' },
        { kind: 'requeue', hint: { ...fact.launched, interrupted: true } },
      ];
    case 'decided':
      return [
        { kind: 'sync_staging' },
        { kind: 'requeue', hint: { retry: { category: 'dependency', reason: fact.reason } } },
      ];
  }
}

function begin(state: RunState, t: TaskState, how: Begin, cfg: DecideConfig): TaskCommand[] {
  switch (how.mode) {
    case 'schedule':
    case 'restart':
      return [launch(t, how.hint)];
    case 'watch':
      return [{ kind: 'watch', attempt: t.attempt }];
    case 'verify':
      return verify(t.id);
    case 'wait':
      // Blocked when the last supervisor stopped: on another task, or on a person's decision.
      return t.blockedOn
        ? [{ kind: 'wait', until: { kind: 'task_finished', task: t.blockedOn, then: retryOf(t) } }]
        : afterWorker(
            state,
            t,
            {
              kind: 'blocked',
              reason: t.lastMessage ?? 'blocked',
              ...(t.blockedNeeds ? { needs: t.blockedNeeds } : {}),
            },
            retryOf(t),
            cfg,
          );
  }
}

function afterWorker(
  state: RunState,
  t: TaskState,
  outcome: WorkerOutcome,
  launched: LaunchHint,
  cfg: DecideConfig,
): TaskCommand[] {
  switch (outcome.kind) {
    case 'stopped':
      return [{ kind: 'end' }];
    case 'done':
      return verify(t.id);
    case 'failed': {
      const { kind: _kind, ...failure } = outcome;
      return afterFailure(state, t, failure, cfg);
    }
    case 'paused':
      return [{ kind: 'wait', until: { kind: 'task_finished', task: outcome.on, then: launched } }];
    case 'blocked':
      return [
        ...(t.status !== 'blocked'
          ? [
              {
                kind: 'journal' as const,
                event: {
                  type: 'task.blocked' as const,
                  task: t.id,
                  reason: outcome.reason,
                  ...(outcome.needs ? { needs: outcome.needs } : {}),
                },
              },
            ]
          : []),
        { kind: 'wait', until: { kind: 'unblocked' } },
      ];
    case 'rate_limit': {
      // Fewer workers, and this task waits for the reset instead of failing.
      const resetMs = outcome.resetAt ? Date.parse(outcome.resetAt) - cfg.now : NaN;
      const waitMs =
        Number.isFinite(resetMs) && resetMs > 0
          ? Math.min(resetMs, MAX_LIMIT_WAIT_MS)
          : cfg.rateLimitWaitSec * 1000;
      const until = new Date(cfg.now + waitMs).toISOString();
      return [
        {
          kind: 'journal',
          event: {
            type: 'workers.throttled',
            maxWorkers: halved(state),
            reason: `rate limited (${t.id}): ${outcome.message}`,
            until,
          },
        },
        {
          kind: 'journal',
          event: { type: 'task.blocked', task: t.id, reason: `rate limited: ${outcome.message}`, until },
        },
        { kind: 'wait', until: { kind: 'time', ms: waitMs, then: launched } },
      ];
    }
  }
}

/** Journals the failure; the last allowed one cancels the dependents, any other leads to a retry. */
function afterFailure(state: RunState, t: TaskState, failure: Failure, cfg: DecideConfig): TaskCommand[] {
  const final = t.failures + 1 > cfg.maxRetries;
  const failed: TaskCommand = {
    kind: 'journal',
    event: {
      type: 'task.failed',
      task: t.id,
      category: failure.category,
      reason: failure.reason,
      final,
      evidence: { source: failure.source, at: new Date(cfg.now).toISOString(), detail: failure.category },
      ...(failure.report ? { report: failure.report.slice(-MAX_REPORT_CHARS) } : {}),
      ...(failure.detail ? { detail: failure.detail.slice(-MAX_REPORT_CHARS) } : {}),
    },
  };
  if (final) return [failed, ...cancelDependents(state, t.id), { kind: 'end' }];
  // A failed check is worth the verifier's diagnosis in the retry prompt; a worker's own failure is not.
  const diagnose = failure.source === 'verification' || failure.source === 'integration';
  return diagnose
    ? [failed, { kind: 'diagnose', failure }]
    : [
        failed,
        {
          kind: 'journal',
          event: {
            type: 'task.retry',
            task: t.id,
            attempt: t.attempt + 1,
            reason: failure.reason,
            category: failure.category,
            ...(failure.report ? { report: failure.report } : {}),
          },
        },
        { kind: 'requeue', hint: {} },
      ];
}

/** What a final failure (or a driver that could not go on) cancels: every open dependent. */
export function cancelDependents(state: RunState, id: string): TaskCommand[] {
  return dependentsToCancel(state, id).map((dep) => ({
    kind: 'journal' as const,
    event: { type: 'task.cancelled' as const, task: dep, reason: `dependency ${id} failed` },
  }));
}

/** After a merge a throttled run gets one worker back, then the merged task is tidied. */
function afterMerge(state: RunState, id: string): TaskCommand[] {
  const tidy: TaskCommand[] = [{ kind: 'cleanup_merged' }, { kind: 'end' }];
  return workerLimit(state) < state.maxWorkers
    ? [
        {
          kind: 'journal',
          event: {
            type: 'workers.throttled',
            maxWorkers: recovered(state),
            reason: `${id} merged: one more worker at once`,
          },
        },
        ...tidy,
      ]
    : tidy;
}

/** What only the running supervisor knows about the run as a whole. */
export interface RunFacts {
  /** Tasks whose driver is in flight. */
  driving: ReadonlySet<string>;
  /** Task → the length of the longest dependency chain it heads. */
  priorities: ReadonlyMap<string, number>;
  /** How requeued tasks start their next attempt, by task. */
  hints: ReadonlyMap<string, LaunchHint>;
}

export type RunCommand =
  | { kind: 'journal'; event: RunEventInput }
  /** Start a driver for this task. */
  | { kind: 'drive'; task: string; how: Begin }
  /** Integration, review and promotion (a review may add tasks). */
  | { kind: 'finish_run' }
  /** Nothing to do until the state or the drivers change. */
  | { kind: 'wait' };

const NEEDS_ATTENTION =
  'every remaining task waits for a decision (see `orch deps list` and `orch state status`)';

/**
 * The run's next commands. The runner carries out every command and decides again, at once after
 * a journal command (the state changed), after a change otherwise.
 */
export function decideRun(state: RunState, facts: RunFacts): RunCommand[] {
  const ready = newlyReady(state);
  if (ready.length > 0)
    return ready.map((id) => ({ kind: 'journal', event: { type: 'task.ready', task: id } }));
  const out: RunCommand[] = [];
  // A driver in flight whose task is still `ready` is launching it: that takes a slot already.
  for (const id of pickToStart(state, facts.priorities, workerLimit(state), facts.driving)) {
    const hint = facts.hints.get(id);
    out.push({ kind: 'drive', task: id, how: { mode: 'schedule', ...(hint ? { hint } : {}) } });
  }
  if (out.length === 0 && facts.driving.size === 0 && allFinished(state)) {
    if (state.phase === 'needs_attention')
      return [{ kind: 'journal', event: { type: 'run.phase', phase: 'running' } }];
    return [{ kind: 'finish_run' }];
  }
  // Every open task waits for a person (a dependency request, a question): say so, so that
  // `orch wait` and the dashboard show it; back to running once someone answered.
  const waiting = onlyWaitingOnHumans(state);
  if (waiting && state.phase === 'running')
    out.push({
      kind: 'journal',
      event: { type: 'run.phase', phase: 'needs_attention', reason: NEEDS_ATTENTION },
    });
  else if (!waiting && state.phase === 'needs_attention')
    out.push({ kind: 'journal', event: { type: 'run.phase', phase: 'running' } });
  if (!out.some((c) => c.kind === 'journal')) out.push({ kind: 'wait' });
  return out;
}

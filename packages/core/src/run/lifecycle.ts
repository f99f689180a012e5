/**
 * The task lifecycle, in one place: which event is legal in which status, and the status it leads
 * to. The reducer applies only legal events (an illegal one is counted as skipped) and the
 * supervisor's journal refuses to append an illegal one. `docs/lifecycle.md` is this table in prose.
 *
 * Two layers: `transition(status, event)` is the status table; `checkTaskEvent(task, event)` adds
 * the rules about attempts (an old attempt's observation, a report after the attempt's deadline).
 */
import { ERR_ILLEGAL_TRANSITION, OrchError } from '../errors.js';
import type { RunEvent, RunEventInput, TaskStatus } from './events.js';

/** Every event type that names a task (a required `task` field): each is a row of the table. */
export const TASK_EVENT_TYPES = [
  'task.ready',
  'task.worktree',
  'task.started',
  'task.progress',
  'task.activity',
  'task.reported',
  'task.exited',
  'task.verifying',
  'task.verified',
  'task.merging',
  'task.merged',
  'task.failed',
  'task.retry',
  'task.cancelled',
  'task.blocked',
  'task.unblocked',
  'task.attention',
  'task.reset',
  'task.timed_out',
  'task.idle',
  'task.pane_gone',
  'task.placed',
] as const;
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

// The list must be exactly the event types with a required `task`: a new one fails to compile here.
type WithTask = Extract<RunEvent, { task: string }>['type'];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const listIsComplete: Same<WithTask, TaskEventType> = true;
void listIsComplete;

/** A task event as read from the journal or as about to be appended (defaults not filled in yet). */
export type TaskEvent = Extract<RunEvent, { type: TaskEventType }>;
export type TaskEventLike = TaskEvent | Extract<RunEventInput, { type: TaskEventType }>;

const TASK_TYPES: ReadonlySet<string> = new Set(TASK_EVENT_TYPES);

export function isTaskEvent<E extends { type: string }>(ev: E): ev is Extract<E, { type: TaskEventType }> {
  return TASK_TYPES.has(ev.type);
}

export type Transition = { ok: true; next: TaskStatus } | { ok: false; reason: string };

/** Merged, failed for good, cancelled: only `task.reset` leaves failed or cancelled; nothing leaves merged. */
export const TERMINAL_STATUSES: readonly TaskStatus[] = ['merged', 'failed', 'cancelled'];
export function isTerminalStatus(s: TaskStatus): boolean {
  return s === 'merged' || s === 'failed' || s === 'cancelled';
}

const ok = (next: TaskStatus): Transition => ({ ok: true, next });
const no = (reason: string): Transition => ({ ok: false, reason });

/** Legal in any status that is not terminal; leads to `next` (the same status when omitted). */
function whileOpen(status: TaskStatus, ev: { type: string }, next: TaskStatus = status): Transition {
  return isTerminalStatus(status) ? no(`${ev.type} on a ${status} task: it is finished`) : ok(next);
}

function among(
  status: TaskStatus,
  ev: { type: string },
  from: readonly TaskStatus[],
  next: TaskStatus,
  why: string,
): Transition {
  return from.includes(status) ? ok(next) : no(`${ev.type} on a ${status} task: ${why}`);
}

/**
 * The status table. Among open statuses a forward move may skip steps (a journal records facts:
 * a task seen merged was merged, whatever orch journaled on the way); going back takes a named
 * event (`task.started` for a new attempt, `task.retry`, `task.unblocked`, `task.reset`).
 */
export function transition(status: TaskStatus, ev: TaskEventLike): Transition {
  switch (ev.type) {
    case 'task.ready':
      return among(status, ev, ['pending'], 'ready', 'only a pending task becomes ready');
    case 'task.started':
      // From ready; from running, verifying or merging when resume restarts an interrupted
      // attempt; from pending when a journal skipped `task.ready`. A paused task is unblocked first.
      return among(
        status,
        ev,
        ['pending', 'ready', 'running', 'verifying', 'merging'],
        'running',
        isTerminalStatus(status) ? 'it is finished' : 'it waits to be unblocked first',
      );
    case 'task.worktree':
    case 'task.verified':
    case 'task.progress':
    case 'task.activity':
    case 'task.placed':
    case 'task.attention':
    case 'task.reported':
    case 'task.exited':
      // Facts about the work; they change no status, and are not news once the task finished.
      return whileOpen(status, ev);
    case 'task.verifying':
      // Resume verifies again from wherever it found a task (a reset failed one is pending).
      return whileOpen(status, ev, 'verifying');
    case 'task.merging':
      return among(status, ev, ['running', 'verifying'], 'merging', 'only a verified task is merged');
    case 'task.merged':
      if (status === 'running' || status === 'verifying' || status === 'merging') return ok('merged');
      // Resume found its verified commit on staging (reconcile evidence) whatever the journal said.
      if (!isTerminalStatus(status) && ev.evidence.source === 'reconcile') return ok('merged');
      return no(
        isTerminalStatus(status)
          ? `task.merged on a ${status} task: it is finished`
          : `task.merged on a ${status} task: it was never verified (only resume's reconcile records such a landing)`,
      );
    case 'task.failed':
      return whileOpen(status, ev, ev.final ? 'failed' : status);
    case 'task.retry':
      return among(
        status,
        ev,
        ['ready', 'running', 'verifying', 'merging', 'blocked', 'needs_attention'],
        'ready',
        status === 'pending' ? 'it never started' : 'it is finished (a reset gives it a new chance)',
      );
    case 'task.cancelled':
      return whileOpen(status, ev, 'cancelled');
    case 'task.blocked':
      // A worker waits (a dependency request, a rate limit, another task); once its work is being
      // verified or merged there is no worker to pause.
      return among(
        status,
        ev,
        ['pending', 'ready', 'running', 'blocked', 'needs_attention'],
        'blocked',
        isTerminalStatus(status) ? 'it is finished' : 'its work is being verified or merged',
      );
    case 'task.unblocked':
      return among(status, ev, ['blocked', 'needs_attention'], 'ready', 'it is not blocked');
    case 'task.reset':
      return among(
        status,
        ev,
        ['failed', 'cancelled'],
        'pending',
        status === 'merged' ? 'a merged task is final' : 'only a failed or cancelled task is reset',
      );
    case 'task.timed_out':
    case 'task.idle':
    case 'task.pane_gone':
      return among(status, ev, ['running'], 'running', 'no worker of it is running');
    default:
      return assertNever(ev);
  }
}

function assertNever(x: never): never {
  throw new Error(`unhandled task event ${JSON.stringify(x)}`);
}

/** What `checkTaskEvent` needs of a task (a `TaskState` has it). */
export interface TaskLifecycle {
  status: TaskStatus;
  attempt: number;
  /** The current attempt has a report (cleared by `task.started`). */
  report?: unknown;
  /** How the current attempt ended, first signal first (see `TaskState.ended`). */
  ended?: { attempt: number; by: 'exited' | 'timed_out' | 'idle' };
}

/**
 * The table plus the attempt rules. First verdict per attempt wins: a deadline (`task.timed_out`,
 * `task.idle`) after a report or an exit of the same attempt is refused (the worker finished in
 * time), and a report after the deadline fired is refused (too late: the attempt failed). An
 * observation of another attempt than the current one is refused; `task.exited` of an earlier
 * attempt stays legal (a late exit is news, and changes no status).
 */
export function checkTaskEvent(t: TaskLifecycle, ev: TaskEventLike): Transition {
  const expired =
    t.ended && t.ended.attempt === t.attempt && t.ended.by !== 'exited' ? t.ended.by : undefined;
  switch (ev.type) {
    case 'task.started':
      if (ev.attempt <= t.attempt)
        return no(`task.started for attempt ${ev.attempt}: attempt ${t.attempt} was started already`);
      break;
    case 'task.reported':
      if (expired && !isTerminalStatus(t.status))
        return no(
          `task.reported after attempt ${t.attempt} ${expired === 'idle' ? 'went idle' : 'timed out'}: too late`,
        );
      break;
    case 'task.timed_out':
    case 'task.idle':
    case 'task.pane_gone':
      if (ev.attempt !== t.attempt)
        return no(`${ev.type} for attempt ${ev.attempt}: the current attempt is ${t.attempt}`);
      if (ev.type === 'task.pane_gone' || t.status !== 'running') break;
      if (t.report !== undefined)
        return no(`${ev.type} for attempt ${ev.attempt}: the worker reported first`);
      if (t.ended && t.ended.attempt === t.attempt)
        return no(`${ev.type} for attempt ${ev.attempt}: it ended first (${t.ended.by})`);
      break;
    default:
      break;
  }
  return transition(t.status, ev);
}

/**
 * The journal's check before appending: an illegal task event throws. Events for tasks the state
 * does not know (and run-level events) are not the table's business.
 */
export function assertLegal(
  state: { tasks: Record<string, TaskLifecycle | undefined> } | undefined,
  ev: RunEventInput,
): void {
  if (!state || !isTaskEvent(ev)) return;
  const t = state.tasks[ev.task];
  if (!t) return;
  const verdict = checkTaskEvent(t, ev);
  if (verdict.ok) return;
  throw new OrchError(
    ERR_ILLEGAL_TRANSITION,
    `Refused to journal ${ev.type} for task ${ev.task} (status ${t.status}, attempt ${t.attempt}): ${verdict.reason}.`,
    {
      hint: 'This is a bug in orch, not in your plan: run with ORCH_DEBUG=1 and report it with the run folder (.orchestrator/runs/<run>/). The lifecycle is described in docs/lifecycle.md.',
      details: { task: ev.task, type: ev.type, status: t.status, attempt: t.attempt },
    },
  );
}

/**
 * Derives the state of a run from its journal. Pure: the same events always give the same state,
 * so the dashboard, `orch state status` and resume all agree on what orch believed.
 */
import type {
  Evidence,
  FailureCategory,
  PlannedTask,
  RunEvent,
  RunPhase,
  TaskStatus,
  Usage,
} from './events.js';
import { checkTaskEvent, isTaskEvent, type TaskEvent } from './lifecycle.js';

export interface TaskState {
  id: string;
  description: string;
  dependsOn: string[];
  agent: string;
  model?: string;
  status: TaskStatus;
  attempt: number;
  /** Failed attempts so far (each counts against max_retries). */
  failures: number;
  session?: string;
  /** The worker host running (or that ran) the current attempt, in a distributed run. */
  host?: string;
  worktree?: string;
  branch?: string;
  baseCommit?: string;
  logPath?: string;
  promptPath?: string;
  lastMessage?: string;
  /** The last few progress messages, newest last (given to an interrupted worker on restart). */
  progress: string[];
  report?: { status: 'done' | 'failed' | 'blocked'; summary?: string; reason?: string; needs?: string };
  failure?: {
    category: FailureCategory;
    reason: string;
    final: boolean;
    reportPath?: string;
    /** The offending paths or the failing command's output tail (see `task.failed`). */
    report?: string;
    detail?: string;
  };
  verificationReport?: string;
  /** The commit and tree the latest passing verification pinned (what the merge lands). */
  verified?: { commit: string; tree: string };
  mergeCommit?: string;
  /** Evidence of the latest verdict. */
  evidence?: Evidence;
  usage: Usage;
  startedAt?: string;
  finishedAt?: string;
  updatedAt: string;
  blockedNeeds?: string;
  /** The failure the next attempt must fix, until that attempt starts. */
  pendingRetry?: { category: string; reason: string; report?: string };
  /** The task this one waits for (a `blocked-on` message). */
  blockedOn?: string;
  /** An open question for a person (a `needs-decision` message). */
  attention?: string;
  /**
   * How the current attempt ended, the first signal of an exit or a deadline (cleared by
   * `task.started`): the lifecycle table decides by it which later signal still counts.
   */
  ended?: { attempt: number; by: 'exited' | 'timed_out' | 'idle' };
}

/** An event the lifecycle table refused (see `lifecycle.ts`): it changed nothing. */
export interface SkippedEvent {
  type: string;
  task: string;
  reason: string;
  ts: string;
}

export interface RunState {
  run: string;
  request: string;
  repoRoot: string;
  planPath: string;
  base: string;
  baseCommit: string;
  staging: string;
  /** The last staging tip orch journaled writing: any other value of the ref was moved by someone else. */
  stagingCommit: string;
  /** The last staging tip whose incremental check passed: new worktrees start from here. */
  stagingVerified: string;
  envHash: string;
  maxWorkers: number;
  detached: boolean;
  noPromote: boolean;
  phase: RunPhase;
  outcome?: 'succeeded' | 'failed' | 'needs_attention' | 'aborted';
  reason?: string;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  supervisorPid?: number;
  supervisorAlive: boolean;
  tasks: Record<string, TaskState>;
  /** Task ids in plan order. */
  order: string[];
  integration?: { ok: boolean; commit: string; reportPath?: string; reason?: string };
  promotion?: { ok: boolean; branch: string; from?: string; to?: string; reason?: string; command?: string };
  reviewIterations: number;
  eventCount: number;
  /** Items the supervisor refused from task channels (`worker.rejected`, dropped ones included). */
  rejected?: { count: number; last: { channel: string; reason: string; ts: string } };
  /** Task events the lifecycle table refused: how many, and the latest few (newest last). */
  skipped?: { count: number; recent: SkippedEvent[] };
  /**
   * Check commands that passed, by tree then command (`check.passed`): where each passed first.
   * A command is never run twice on the same tree.
   */
  checksPassed?: Record<string, Record<string, PassedCheck>>;
  /** The supervisor's current worker limit, when it lowered it (a rate limit); `maxWorkers` is the plan's. */
  throttled?: { maxWorkers: number; reason: string; until?: string; at: string };
}

/** Where a check command passed on a tree (see `RunState.checksPassed`). */
export interface PassedCheck {
  commit: string;
  by: 'verification' | 'merge' | 'integration';
  tasks: string[];
  logPath?: string;
  at: string;
}

const PROGRESS_KEPT = 5;
const SKIPPED_KEPT = 5;

export function emptyUsage(): Usage {
  return {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    contextTokens: 0,
    contextWindow: 0,
    costUsd: 0,
  };
}

function newTask(t: PlannedTask, ts: string): TaskState {
  return {
    id: t.id,
    description: t.description ?? '',
    dependsOn: [...t.dependsOn],
    agent: t.agent,
    ...(t.model ? { model: t.model } : {}),
    status: 'pending',
    attempt: 0,
    failures: 0,
    progress: [],
    usage: emptyUsage(),
    updatedAt: ts,
  };
}

/** Applies one event to a state (mutating and returning it); unknown tasks are ignored. */
export function applyEvent(state: RunState | undefined, ev: RunEvent): RunState | undefined {
  if (ev.type === 'run.started') {
    const tasks: Record<string, TaskState> = {};
    // A second run.started (a review iteration appending tasks) keeps existing tasks.
    for (const t of ev.tasks) tasks[t.id] = state?.tasks[t.id] ?? newTask(t, ev.ts);
    return {
      run: ev.run,
      request: ev.request,
      repoRoot: ev.repoRoot,
      planPath: ev.planPath,
      base: ev.base,
      baseCommit: ev.baseCommit,
      staging: ev.staging,
      stagingCommit: state?.stagingCommit ?? ev.stagingCommit,
      stagingVerified: state?.stagingVerified ?? ev.stagingCommit,
      envHash: ev.envHash,
      maxWorkers: ev.maxWorkers,
      detached: ev.detached,
      noPromote: ev.noPromote,
      phase: state?.phase ?? 'starting',
      startedAt: state?.startedAt ?? ev.ts,
      updatedAt: ev.ts,
      supervisorAlive: state?.supervisorAlive ?? false,
      ...(state?.supervisorPid !== undefined ? { supervisorPid: state.supervisorPid } : {}),
      tasks,
      order: ev.tasks.map((t) => t.id),
      reviewIterations: state?.reviewIterations ?? 0,
      eventCount: (state?.eventCount ?? 0) + 1,
      ...(state?.rejected ? { rejected: state.rejected } : {}),
      ...(state?.skipped ? { skipped: state.skipped } : {}),
      ...(state?.throttled ? { throttled: state.throttled } : {}),
      ...(state?.checksPassed ? { checksPassed: state.checksPassed } : {}),
    };
  }
  if (!state) return state;
  state.updatedAt = ev.ts;
  state.eventCount += 1;
  if (isTaskEvent(ev)) {
    const t = state.tasks[ev.task];
    if (!t) return state;
    const verdict = checkTaskEvent(t, ev);
    if (!verdict.ok) {
      skip(state, ev, verdict.reason);
      return state;
    }
    t.updatedAt = ev.ts;
    t.status = verdict.next;
    applyTaskEvent(state, t, ev);
    return state;
  }
  switch (ev.type) {
    case 'run.phase':
      state.phase = ev.phase;
      if (ev.reason !== undefined) state.reason = ev.reason;
      if (ev.phase === 'running' && state.outcome) {
        // A finished run taken up again (resume after a human fixed something).
        delete state.outcome;
        delete state.finishedAt;
        delete state.reason;
      }
      break;
    case 'supervisor.started':
      state.supervisorPid = ev.pid;
      state.supervisorAlive = true;
      break;
    case 'supervisor.stopped':
      state.supervisorAlive = false;
      break;
    case 'staging.moved':
      state.stagingCommit = ev.to;
      break;
    case 'staging.verified':
      state.stagingVerified = ev.commit;
      break;
    case 'check.passed': {
      const byTree = (state.checksPassed ??= {});
      const commands = (byTree[ev.tree] ??= {});
      // The first pass is kept: it is the one a later skip points to.
      commands[ev.command] ??= {
        commit: ev.commit,
        by: ev.by,
        tasks: ev.tasks,
        ...(ev.logPath !== undefined ? { logPath: ev.logPath } : {}),
        at: ev.ts,
      };
      break;
    }
    case 'merge.batch':
      // A record for the figures (batch sizes, checks per batch); the landings move staging.
      break;
    case 'env.changed':
      state.envHash = ev.hash;
      break;
    case 'integration.finished':
      state.integration = {
        ok: ev.ok,
        commit: ev.commit,
        ...(ev.reportPath ? { reportPath: ev.reportPath } : {}),
        ...(ev.reason ? { reason: ev.reason } : {}),
      };
      break;
    case 'promotion.finished':
      state.promotion = {
        ok: ev.ok,
        branch: ev.branch,
        ...(ev.from ? { from: ev.from } : {}),
        ...(ev.to ? { to: ev.to } : {}),
        ...(ev.reason ? { reason: ev.reason } : {}),
        ...(ev.command ? { command: ev.command } : {}),
      };
      break;
    case 'tasks.added':
      for (const t of ev.tasks) {
        if (state.tasks[t.id]) continue;
        state.tasks[t.id] = newTask(t, ev.ts);
        state.order.push(t.id);
      }
      break;
    case 'review.finished':
      state.reviewIterations = Math.max(state.reviewIterations, ev.iteration);
      break;
    case 'worker.rejected':
      state.rejected = {
        count: (state.rejected?.count ?? 0) + 1 + ev.dropped,
        last: { channel: ev.channel, reason: ev.reason, ts: ev.ts },
      };
      break;
    case 'run.finished':
      state.outcome = ev.outcome;
      state.phase = ev.outcome;
      state.finishedAt = ev.ts;
      if (ev.reason !== undefined) state.reason = ev.reason;
      break;
    case 'workers.throttled':
      // Kept in the state, so a resumed supervisor starts at the lowered limit.
      state.throttled = {
        maxWorkers: ev.maxWorkers,
        reason: ev.reason,
        ...(ev.until !== undefined ? { until: ev.until } : {}),
        at: ev.ts,
      };
      break;
    case 'repair':
      // A note of what resume fixed; the events it journals beside it carry the changes.
      break;
    default:
      return unhandled(ev);
  }
  return state;
}

/** How many workers may run at once now: the plan's limit, or the lower one a rate limit set. */
export function workerLimit(state: RunState): number {
  return Math.min(state.maxWorkers, state.throttled?.maxWorkers ?? state.maxWorkers);
}

function skip(state: RunState, ev: TaskEvent, reason: string): void {
  const recent = [...(state.skipped?.recent ?? []), { type: ev.type, task: ev.task, reason, ts: ev.ts }];
  state.skipped = {
    count: (state.skipped?.count ?? 0) + 1,
    recent: recent.slice(-SKIPPED_KEPT),
  };
}

function unhandled(ev: never): never {
  throw new Error(`unhandled run event ${JSON.stringify(ev)}`);
}

/** The data an event carries; its status change is the lifecycle table's (set by the caller). */
function applyTaskEvent(state: RunState, t: TaskState, ev: TaskEvent): void {
  switch (ev.type) {
    case 'task.ready':
      break;
    case 'task.worktree':
      t.worktree = ev.path;
      t.branch = ev.branch;
      t.baseCommit = ev.baseCommit;
      break;
    case 'task.started':
      t.attempt = ev.attempt;
      t.session = ev.session;
      t.agent = ev.agent;
      if (ev.model) t.model = ev.model;
      t.promptPath = ev.promptPath;
      t.logPath = ev.logPath;
      t.startedAt ??= ev.ts;
      delete t.report;
      delete t.pendingRetry;
      delete t.finishedAt;
      delete t.ended;
      break;
    case 'task.progress':
      t.lastMessage = ev.message;
      t.progress.push(ev.message);
      if (t.progress.length > PROGRESS_KEPT) t.progress.splice(0, t.progress.length - PROGRESS_KEPT);
      break;
    case 'task.placed':
      if (ev.attempt === t.attempt) t.host = ev.host;
      break;
    case 'task.activity':
      if (ev.usage) {
        // Token and cost figures are cumulative per attempt in most CLIs; the adapter sends totals
        // for the task, so the latest value wins.
        for (const [k, v] of Object.entries(ev.usage)) {
          if (typeof v === 'number') (t.usage as Record<string, number>)[k] = v;
        }
      }
      if (ev.activity) t.lastMessage = ev.activity;
      break;
    case 'task.reported':
      t.report = {
        status: ev.status,
        ...(ev.summary ? { summary: ev.summary } : {}),
        ...(ev.reason ? { reason: ev.reason } : {}),
        ...(ev.needs ? { needs: ev.needs } : {}),
      };
      t.evidence = ev.evidence;
      if (ev.summary) t.lastMessage = ev.summary;
      break;
    case 'task.exited':
      t.evidence = ev.evidence;
      if ((ev.attempt ?? t.attempt) === t.attempt && t.ended?.attempt !== t.attempt)
        t.ended = { attempt: t.attempt, by: 'exited' };
      break;
    case 'task.verifying':
      break;
    case 'task.verified':
      if (ev.reportPath) t.verificationReport = ev.reportPath;
      if (ev.ok && ev.headCommit && ev.tree) t.verified = { commit: ev.headCommit, tree: ev.tree };
      else delete t.verified;
      break;
    case 'task.merging':
      break;
    case 'task.merged':
      t.mergeCommit = ev.commit;
      t.evidence = ev.evidence;
      t.finishedAt = ev.ts;
      delete t.failure;
      delete t.attention;
      state.stagingCommit = ev.commit;
      break;
    case 'task.failed':
      t.failures += 1;
      t.failure = {
        category: ev.category,
        reason: ev.reason,
        final: ev.final,
        ...(ev.reportPath ? { reportPath: ev.reportPath } : {}),
        ...(ev.report ? { report: ev.report } : {}),
        ...(ev.detail ? { detail: ev.detail } : {}),
      };
      t.evidence = ev.evidence;
      t.lastMessage = `${ev.category}: ${ev.reason}`;
      if (ev.final) t.finishedAt = ev.ts;
      break;
    case 'task.retry':
      t.pendingRetry = {
        category: ev.category ?? t.failure?.category ?? 'retry',
        reason: ev.reason,
        ...(ev.report ? { report: ev.report } : {}),
      };
      break;
    case 'task.cancelled':
      t.lastMessage = ev.reason;
      t.finishedAt = ev.ts;
      break;
    case 'task.blocked':
      t.lastMessage = ev.reason;
      if (ev.needs) t.blockedNeeds = ev.needs;
      if (ev.on) t.blockedOn = ev.on;
      break;
    case 'task.unblocked':
      // The supervisor starts the worker again right after; until then the task waits for a slot.
      t.lastMessage = ev.reason;
      delete t.blockedNeeds;
      delete t.blockedOn;
      delete t.attention;
      break;
    case 'task.reset':
      t.failures = 0;
      delete t.failure;
      delete t.finishedAt;
      t.lastMessage = ev.reason;
      break;
    case 'task.attention':
      // The worker keeps working; the question shows in the dashboard and `orch state status`.
      t.attention = ev.reason;
      break;
    case 'task.timed_out':
    case 'task.idle':
      // The deadline fired first: the attempt is over (the supervisor journals its failure next).
      if (t.ended?.attempt !== t.attempt)
        t.ended = { attempt: t.attempt, by: ev.type === 'task.idle' ? 'idle' : 'timed_out' };
      t.lastMessage =
        ev.type === 'task.idle' ? `no output for ${ev.idleSec} s` : `ran longer than ${ev.timeoutSec} s`;
      break;
    case 'task.pane_gone':
      // The worker's session ended; its exit (journaled by the wrapper or the supervisor) says how.
      break;
    default:
      unhandled(ev);
  }
}

export function reduceRun(events: Iterable<RunEvent>): RunState | undefined {
  let s: RunState | undefined;
  for (const ev of events) s = applyEvent(s, ev);
  return s;
}

export function countByStatus(state: RunState): Record<TaskStatus, number> {
  const counts: Record<string, number> = {
    pending: 0,
    ready: 0,
    running: 0,
    verifying: 0,
    merging: 0,
    merged: 0,
    failed: 0,
    blocked: 0,
    needs_attention: 0,
    cancelled: 0,
  };
  for (const id of state.order) {
    const t = state.tasks[id];
    if (t) counts[t.status] = (counts[t.status] ?? 0) + 1;
  }
  return counts as Record<TaskStatus, number>;
}

export function totalUsage(state: RunState): Usage {
  const u = emptyUsage();
  for (const t of Object.values(state.tasks)) {
    u.inputTokens += t.usage.inputTokens;
    u.outputTokens += t.usage.outputTokens;
    u.cacheReadTokens += t.usage.cacheReadTokens;
    u.cacheWriteTokens += t.usage.cacheWriteTokens;
    u.costUsd += t.usage.costUsd;
  }
  return u;
}

export function isTerminalPhase(p: RunPhase): boolean {
  return p === 'succeeded' || p === 'failed' || p === 'needs_attention' || p === 'aborted';
}

/** Pure views of a `RunState`: what the header, the table rows and the footer show. */
import {
  countByStatus,
  isTerminalPhase,
  totalUsage,
  type RunState,
  type TaskState,
  type TaskStatus,
} from '@orch/core';
import {
  formatContext,
  formatCost,
  formatDuration,
  formatTokens,
  oneLine,
  shortCommit,
  span,
} from '../format.js';
import { ACTIVE_STATUSES, STATUS_LOOK, STATUS_ORDER, type Tone } from '../status.js';

export interface TaskRow {
  id: string;
  status: TaskStatus;
  glyph: string;
  color: Tone;
  /** The status label, with the attempt number from the second attempt on. */
  statusText: string;
  agent: string;
  /** The machine that runs its attempt (a distributed run's worker host); '' when not known. */
  host: string;
  context: string;
  cost: string;
  elapsed: string;
  message: string;
  /** A person must answer something (the message says what). */
  attention: boolean;
}

export interface HeaderInfo {
  request: string;
  run: string;
  base: string;
  staging: string;
  stagingCommit: string;
}

export interface FooterInfo {
  phase: RunState['phase'];
  elapsed: string;
  counts: { status: TaskStatus; count: number }[];
  inputTokens: string;
  outputTokens: string;
  cost: string;
  /** The run is not finished but its supervisor stopped (resume it with `orch state resume`). */
  interrupted: boolean;
}

export function tasksInOrder(state: RunState): TaskState[] {
  const out: TaskState[] = [];
  for (const id of state.order) {
    const t = state.tasks[id];
    if (t) out.push(t);
  }
  return out;
}

export function taskElapsed(t: TaskState, now: number): number | undefined {
  // A task that stopped without a final verdict (interrupted run) stops its clock at its last event.
  const end = t.finishedAt ?? (ACTIVE_STATUSES.has(t.status) ? undefined : t.updatedAt);
  return span(t.startedAt, end, now);
}

export function agentLabel(t: Pick<TaskState, 'agent' | 'model'>): string {
  return t.model ? `${t.agent}/${t.model}` : t.agent;
}

export function selectRow(t: TaskState, now: number, host = ''): TaskRow {
  const look = STATUS_LOOK[t.status];
  return {
    id: oneLine(t.id),
    status: t.status,
    glyph: look.glyph,
    color: look.color,
    statusText: t.attempt > 1 ? `${look.label} #${t.attempt}` : look.label,
    agent: oneLine(agentLabel(t)),
    host: oneLine(host),
    context: formatContext(t.usage),
    cost: t.usage.costUsd > 0 ? formatCost(t.usage.costUsd) : '-',
    elapsed: formatDuration(taskElapsed(t, now)),
    message: oneLine(messageOf(t)),
    attention: t.attention !== undefined || t.status === 'needs_attention',
  };
}

function messageOf(t: TaskState): string {
  if (t.attention) return `needs a decision: ${t.attention}`;
  if (t.status === 'blocked' && t.blockedNeeds)
    return `${t.lastMessage ?? 'blocked'} (needs ${t.blockedNeeds})`;
  return t.lastMessage ?? (t.status === 'pending' ? waitingFor(t) : '');
}

function waitingFor(t: TaskState): string {
  return t.dependsOn.length > 0 ? `after ${t.dependsOn.join(', ')}` : '';
}

/** `hosts`: the host of each task's attempt, by task id (a distributed run's); absent locally. */
export function selectRows(state: RunState, now: number, hosts?: ReadonlyMap<string, string>): TaskRow[] {
  return tasksInOrder(state).map((t) => selectRow(t, now, hosts?.get(t.id)));
}

export function selectHeader(state: RunState): HeaderInfo {
  return {
    request: oneLine(state.request),
    run: oneLine(state.run),
    base: oneLine(state.base),
    staging: oneLine(state.staging),
    stagingCommit: shortCommit(state.stagingCommit),
  };
}

export function runElapsed(state: RunState, now: number): number | undefined {
  const end =
    state.finishedAt ??
    (isTerminalPhase(state.phase) || supervisorStopped(state) ? state.updatedAt : undefined);
  return span(state.startedAt, end, now);
}

/** The supervisor was seen starting and then stopping (an interrupted run: nothing moves). */
export function supervisorStopped(state: RunState): boolean {
  return state.supervisorPid !== undefined && !state.supervisorAlive;
}

export function selectFooter(state: RunState, now: number): FooterInfo {
  const counts = countByStatus(state);
  const usage = totalUsage(state);
  return {
    phase: state.phase,
    elapsed: formatDuration(runElapsed(state, now)),
    counts: STATUS_ORDER.filter((s) => counts[s] > 0).map((s) => ({ status: s, count: counts[s] })),
    inputTokens: formatTokens(usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens),
    outputTokens: formatTokens(usage.outputTokens),
    cost: formatCost(usage.costUsd),
    interrupted: !isTerminalPhase(state.phase) && supervisorStopped(state),
  };
}

/** True while some clock on screen moves: a task is active and the supervisor has not stopped. */
export function isTicking(state: RunState | undefined): boolean {
  if (!state || isTerminalPhase(state.phase) || supervisorStopped(state)) return false;
  return state.order.some((id) => {
    const t = state.tasks[id];
    return t !== undefined && ACTIVE_STATUSES.has(t.status);
  });
}

/** Workers to show as panels: those with a live session (running, verifying, merging). */
export function isLiveWorker(t: TaskState): boolean {
  return ACTIVE_STATUSES.has(t.status) || (t.status === 'blocked' && t.session !== undefined);
}

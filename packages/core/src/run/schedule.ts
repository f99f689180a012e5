/**
 * Scheduling decisions, pure: which tasks became ready, which to start next, and what a final
 * failure cancels. The supervisor applies them and journals each step.
 */
import type { RunState, TaskState } from './state.js';

/**
 * Statuses that hold a worker slot: only a live worker does. A task that is verifying or merging
 * has no worker any more (its checks run in their own lane), so its slot goes to the next task.
 */
const LIVE = new Set(['running']);

/**
 * Worker slots in use: live workers, plus `launching` (tasks whose start is under way but not
 * journaled yet, still `ready`).
 */
export function activeCount(state: RunState, launching: ReadonlySet<string> = new Set()): number {
  let n = 0;
  for (const t of Object.values(state.tasks))
    if (LIVE.has(t.status) || (launching.has(t.id) && t.status === 'ready')) n += 1;
  return n;
}

/** Pending tasks whose every dependency is merged into staging. */
export function newlyReady(state: RunState): string[] {
  return state.order.filter((id) => {
    const t = state.tasks[id];
    return t?.status === 'pending' && t.dependsOn.every((d) => state.tasks[d]?.status === 'merged');
  });
}

/**
 * Ready tasks to start now: longest remaining path first (ties by plan order), at most the free
 * slots. `priority` maps a task to the length of the longest dependency chain it heads.
 */
export function pickToStart(
  state: RunState,
  priority: ReadonlyMap<string, number>,
  maxWorkers: number,
  launching: ReadonlySet<string> = new Set(),
): string[] {
  const free = maxWorkers - activeCount(state, launching);
  if (free <= 0) return [];
  const index = new Map(state.order.map((id, i) => [id, i]));
  return state.order
    .filter((id) => state.tasks[id]?.status === 'ready' && !launching.has(id))
    .sort(
      (a, b) => (priority.get(b) ?? 0) - (priority.get(a) ?? 0) || (index.get(a) ?? 0) - (index.get(b) ?? 0),
    )
    .slice(0, free);
}

/** Every task that depends on `id`, directly or not, and is not finished. */
export function dependentsToCancel(state: RunState, id: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>([id]);
  const queue = [id];
  while (queue.length > 0) {
    const cur = queue.shift() as string;
    for (const t of Object.values(state.tasks)) {
      if (seen.has(t.id) || !t.dependsOn.includes(cur)) continue;
      seen.add(t.id);
      queue.push(t.id);
      if (!isFinished(t)) out.push(t.id);
    }
  }
  return out.sort((a, b) => state.order.indexOf(a) - state.order.indexOf(b));
}

export function isFinished(t: TaskState): boolean {
  return t.status === 'merged' || t.status === 'failed' || t.status === 'cancelled';
}

/**
 * True when nothing can move without a person: every unfinished task waits for a decision on a
 * dependency request (tasks paused for a rate limit or for another task move on by themselves).
 */
export function onlyWaitingOnHumans(state: RunState): boolean {
  const open = Object.values(state.tasks).filter((t) => !isFinished(t));
  return (
    open.length > 0 &&
    open.every(
      (t) => (t.status === 'blocked' && t.blockedNeeds !== undefined) || t.status === 'needs_attention',
    )
  );
}

export function allFinished(state: RunState): boolean {
  return Object.values(state.tasks).every(isFinished);
}

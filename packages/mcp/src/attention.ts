/**
 * What in a run needs a person now: open questions, dependency requests, escalations, and the run
 * having finished. `run_wait` returns as soon as it is not empty.
 */
import { isTerminalPhase, type RunState } from '@orch/core';

export interface NeedsUser {
  kind: 'needs-decision' | 'dependency' | 'escalation' | 'run-finished';
  task?: string;
  detail: string;
}

export function needsUser(state: RunState): NeedsUser[] {
  const out: NeedsUser[] = [];
  for (const id of state.order) {
    const t = state.tasks[id];
    if (!t) continue;
    if (t.attention !== undefined) out.push({ kind: 'needs-decision', task: id, detail: t.attention });
    else if (t.status === 'needs_attention')
      out.push({
        kind: 'escalation',
        task: id,
        detail: t.failure?.reason ?? t.lastMessage ?? 'needs attention',
      });
    if (t.status === 'blocked' && t.blockedNeeds !== undefined)
      out.push({ kind: 'dependency', task: id, detail: t.blockedNeeds });
  }
  if (isTerminalPhase(state.phase) || state.phase === 'needs_attention')
    out.push({ kind: 'run-finished', detail: state.outcome ?? state.phase });
  return out;
}

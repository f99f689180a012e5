/** The run's state as tool results: small enough to read on every poll. */
import { countByStatus, totalUsage, type RunState } from '@orch/core';
import { needsUser } from './attention.js';

export function runSummary(s: RunState): Record<string, unknown> {
  const usage = totalUsage(s);
  return {
    run: s.run,
    phase: s.phase,
    outcome: s.outcome ?? null,
    reason: s.reason ?? null,
    supervisorAlive: s.supervisorAlive,
    counts: countByStatus(s),
    tokens: usage.inputTokens + usage.outputTokens,
    costUsd: usage.costUsd,
    needsUser: needsUser(s),
  };
}

/** The summary with one line per task (what `run_status` returns). */
export function runStatus(s: RunState): Record<string, unknown> {
  return {
    ...runSummary(s),
    request: s.request,
    base: s.base,
    staging: s.staging,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt ?? null,
    promotion: s.promotion ?? null,
    tasks: s.order.flatMap((id) => {
      const t = s.tasks[id];
      if (!t) return [];
      return [
        {
          id,
          status: t.status,
          attempt: t.attempt,
          agent: t.agent,
          ...(t.lastMessage !== undefined ? { lastMessage: t.lastMessage } : {}),
          ...(t.report?.summary !== undefined ? { summary: t.report.summary } : {}),
          ...(t.failure ? { failure: { category: t.failure.category, reason: t.failure.reason } } : {}),
          ...(t.blockedNeeds !== undefined ? { blockedNeeds: t.blockedNeeds } : {}),
          ...(t.blockedOn !== undefined ? { blockedOn: t.blockedOn } : {}),
          ...(t.attention !== undefined ? { attention: t.attention } : {}),
          ...(t.mergeCommit !== undefined ? { mergeCommit: t.mergeCommit } : {}),
        },
      ];
    }),
  };
}

/**
 * The dashboard's terminal bell: it rings once when something new waits for a person (a
 * question, a dependency request) or the run has ended, so a dashboard in a background tab or
 * window is noticed. What counts is `attentionKeys` in core, the same moments orch notifies about.
 */
import { attentionKeys } from '@orch/core';
import type { DashboardSource } from './source.js';

export const BELL = '\u0007';

/** Rings on `out` whenever a key appears that the previous state lacked; returns the unsubscribe. */
export function ringOnAttention(source: DashboardSource, out: { write(text: string): unknown }): () => void {
  // What already waited when the view opened was rung for (or notified) before.
  let seen = attentionKeys(source.getState());
  return source.subscribe(() => {
    const now = attentionKeys(source.getState());
    const fresh = [...now].some((k) => !seen.has(k));
    seen = now;
    if (fresh) out.write(BELL);
  });
}

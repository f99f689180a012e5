import type { RunState } from '@orch/core';
import { useCallback, useSyncExternalStore } from 'react';
import type { DashboardSource } from '../source.js';

/**
 * The source's current state, re-rendering on changes at most once per `throttleMs` (a busy run
 * journals many events a second; each redraw costs a full frame). Key presses still render at once,
 * with the newest state. The snapshot is the state's event count (states may be mutated in place by
 * the reducer), so changes between render and subscribe are not lost.
 */
export function useRunState(source: DashboardSource, throttleMs = 0): RunState | undefined {
  const subscribe = useCallback(
    (onChange: () => void) => {
      let timer: NodeJS.Timeout | undefined;
      let last = 0;
      const fire = (): void => {
        timer = undefined;
        last = Date.now();
        onChange();
      };
      const off = source.subscribe(() => {
        if (timer !== undefined) return;
        const wait = last + throttleMs - Date.now();
        if (wait <= 0) fire();
        else timer = setTimeout(fire, wait);
      });
      return () => {
        off();
        if (timer !== undefined) clearTimeout(timer);
      };
    },
    [source, throttleMs],
  );
  const snapshot = useCallback(() => {
    const s = source.getState();
    return s ? `${s.run}:${s.eventCount}:${s.updatedAt}` : '';
  }, [source]);
  useSyncExternalStore(subscribe, snapshot, snapshot);
  return source.getState();
}

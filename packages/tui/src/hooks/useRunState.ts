import type { RunState } from '@orch/core';
import { useCallback, useSyncExternalStore } from 'react';
import type { DashboardSource } from '../source.js';

/**
 * The source's current state, re-rendering on each change. The snapshot is the state's event count
 * (states may be mutated in place by the reducer), so changes between render and subscribe are not lost.
 */
export function useRunState(source: DashboardSource): RunState | undefined {
  const subscribe = useCallback((onChange: () => void) => source.subscribe(onChange), [source]);
  const snapshot = useCallback(() => {
    const s = source.getState();
    return s ? `${s.run}:${s.eventCount}:${s.updatedAt}` : '';
  }, [source]);
  useSyncExternalStore(subscribe, snapshot, snapshot);
  return source.getState();
}

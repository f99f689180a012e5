import { useEffect, useReducer } from 'react';

/**
 * The current time, re-rendering once a second only while `active` (some task runs): an idle or
 * finished dashboard schedules nothing and redraws only when the journal changes.
 */
export function useClock(active: boolean, clock: () => number = Date.now): number {
  const [, tick] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(tick, 1000);
    return () => clearInterval(timer);
  }, [active]);
  return clock();
}

import { useEffect, useReducer } from 'react';

/**
 * The current time, re-rendering one second after the last render only while `active` (some task
 * runs): an idle or finished dashboard schedules nothing, and in a busy run the journal's redraws
 * already move the clock, so ticks add no frames.
 */
export function useClock(active: boolean, clock: () => number = Date.now): number {
  const [, tick] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    if (!active) return undefined;
    const timer = setTimeout(tick, 1000);
    return () => clearTimeout(timer);
  });
  return clock();
}

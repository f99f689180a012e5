import type { RunState } from '@orch/core';
import { useEffect, useLayoutEffect, useReducer, useRef } from 'react';
import type { DashboardSource } from '../source.js';
import { isTicking } from '../state/selectors.js';

export interface LiveRun {
  state: RunState | undefined;
  now: number;
  /** Some task is active: the clock moves and the view redraws once a second. */
  ticking: boolean;
}

function stamp(s: RunState | undefined): string {
  return s ? `${s.run}:${s.eventCount}:${s.updatedAt}` : '';
}

/**
 * The source's state and the time, redrawn by one scheduler: journal changes redraw at most once
 * per `redrawMs` (a busy run journals many events a second, and every redraw costs a full frame),
 * and while a task runs the clock redraws one second after the last frame, never in between. An idle
 * or finished run schedules nothing. Key presses render at once and show the newest state.
 */
export function useLiveRun(
  source: DashboardSource,
  redrawMs: number,
  clock: () => number = Date.now,
): LiveRun {
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const timer = useRef<NodeJS.Timeout | undefined>(undefined);
  const lastFrame = useRef(0);
  const shown = useRef('');
  const state = source.getState();
  const ticking = isTicking(state);

  const schedule = (delayMs: number): void => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(
      () => {
        timer.current = undefined;
        redraw();
      },
      Math.max(0, delayMs),
    );
  };
  const scheduleRef = useRef(schedule);
  scheduleRef.current = schedule;

  // A layout effect runs in the same task as the commit, so no journal callback can slip between
  // the render (which read the newest state) and the cancelling of the pending redraw.
  useLayoutEffect(() => {
    lastFrame.current = Date.now();
    shown.current = stamp(state);
    if (timer.current !== undefined) {
      clearTimeout(timer.current);
      timer.current = undefined;
    }
    if (ticking) scheduleRef.current(1000);
  });

  useEffect(() => {
    const onChange = (): void => scheduleRef.current(lastFrame.current + redrawMs - Date.now());
    const off = source.subscribe(onChange);
    // Changes between the first render and this subscription.
    if (stamp(source.getState()) !== shown.current) onChange();
    return () => {
      off();
      if (timer.current !== undefined) clearTimeout(timer.current);
      timer.current = undefined;
    };
  }, [source, redrawMs]);

  return { state, now: clock(), ticking };
}

import type { TaskState } from '@orch/core';
import { useEffect, useRef, useState } from 'react';
import type { PaneSource } from '../source.js';

export const PANE_POLL_MS = 1000;

function same(a: Readonly<Record<string, string[]>>, b: Readonly<Record<string, string[]>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] !== undefined && a[k]?.join('\n') === b[k].join('\n'));
}

/**
 * The latest output lines of each live worker. Worker output is not journaled, so this polls the
 * pane source once a second while the workers view shows live workers, and re-renders only when
 * some pane's text changed.
 */
export function usePanes(
  panes: PaneSource | undefined,
  tasks: TaskState[],
  lines: number,
): Readonly<Record<string, string[]>> {
  const [captured, setCaptured] = useState<Readonly<Record<string, string[]>>>({});
  const tasksRef = useRef(tasks);
  tasksRef.current = tasks;
  const key = tasks.map((t) => `${t.id}:${t.attempt}`).join(',');
  useEffect(() => {
    if (!panes || key === '') return undefined;
    let live = true;
    let busy = false;
    const poll = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        const entries = await Promise.all(
          tasksRef.current.map(async (t) => [t.id, await panes.capture(t, lines).catch(() => [])] as const),
        );
        const next = Object.fromEntries(entries);
        if (live) setCaptured((prev) => (same(prev, next) ? prev : next));
      } finally {
        busy = false;
      }
    };
    void poll();
    const timer = setInterval(() => void poll(), PANE_POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [panes, key, lines]);
  return captured;
}

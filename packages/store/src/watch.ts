/** A view's follower of a run's journal: the one `JournalFollower`, handing out copies of its state. */
import type { RunEvent, RunState } from '@orch/core';
import { JournalFollower } from './follow.js';

export interface JournalWatcher {
  close(): void;
}

export interface WatchJournalOptions {
  /** Called when reading fails (the watcher keeps going). */
  onError?: (e: unknown) => void;
}

/**
 * Calls `onChange(newEvents, state)` once with the current state (no new events) when the run has
 * started (and again, with no events, when the journal was replaced), then after every append.
 * `state` is a fresh copy each time: views may keep or change it.
 */
export function watchJournal(
  runDir: string,
  onChange: (newEvents: RunEvent[], state: RunState) => void,
  opts: WatchJournalOptions = {},
): JournalWatcher {
  let closed = false;
  const follower = new JournalFollower(runDir, opts.onError ? { onError: opts.onError } : {});
  follower.subscribe((events, state, { reset }) => {
    if (!closed) onChange(reset ? [] : events, structuredClone(state));
  });
  follower.follow();
  return {
    close() {
      closed = true;
      follower.close();
    },
  };
}

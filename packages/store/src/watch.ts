/**
 * Follows a run's journal: fs.watch on the run directory wakes it, and it reads only the bytes
 * appended since the last read. Watching the directory (not the file) also sees the journal being
 * created and `state.json` being replaced.
 */
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { applyEvent, type RunEvent, type RunState } from '@orch/core';
import { loadRunStateAt, readEventsFrom } from './journal.js';

export interface JournalWatcher {
  close(): void;
}

export interface WatchJournalOptions {
  /** Called when reading fails (the watcher keeps going). */
  onError?: (e: unknown) => void;
}

/**
 * Calls `onChange(newEvents, state)` once with the current state (no new events) when the run has
 * started, then after every append. `state` is a fresh copy each time.
 */
export function watchJournal(
  runDir: string,
  onChange: (newEvents: RunEvent[], state: RunState) => void,
  opts: WatchJournalOptions = {},
): JournalWatcher {
  let closed = false;
  let offset = 0;
  let state: RunState | undefined;
  let ready = false;
  let reading = false;
  let again = false;

  const report = (e: unknown): void => {
    if (opts.onError) opts.onError(e);
  };

  const readNew = async (): Promise<void> => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        if (closed) return;
        if (!ready) {
          const loaded = await loadRunStateAt(runDir);
          state = loaded.state;
          offset = loaded.offset;
          ready = true;
          if (state && !closed) onChange([], structuredClone(state));
          continue;
        }
        const chunk = await readEventsFrom(runDir, offset);
        if (chunk.size < offset) {
          // The journal shrank (repaired or replaced): start over from the snapshot.
          ready = false;
          again = true;
          continue;
        }
        offset = chunk.end;
        if (chunk.events.length === 0) continue;
        for (const ev of chunk.events) state = applyEvent(state, ev);
        if (state && !closed) onChange(chunk.events, structuredClone(state));
      } while (again && !closed);
    } catch (e) {
      report(e);
    } finally {
      reading = false;
    }
  };

  mkdirSync(runDir, { recursive: true });
  const watcher: FSWatcher = fsWatch(runDir, { persistent: true }, (_event, filename) => {
    if (filename === null || filename === 'events.jsonl') void readNew();
  });
  watcher.on('error', report);
  void readNew();
  return {
    close() {
      closed = true;
      watcher.close();
    },
  };
}

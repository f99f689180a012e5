/**
 * The one follower of a run's journal, for the supervisor (the engine's file-backed `RunLog`) and
 * for every view (`watchJournal`): it reads only the bytes appended since the last read, applies
 * them to its state, tells its listeners, and, once `follow` is called, is woken by an fs.watch
 * on the run directory (watching the directory, not the file, also sees the journal being
 * created). A journal that shrank (replaced, or cut back by hand) is read again from its start.
 */
import { mkdirSync, watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import { Lanes, applyEvent, traced, type RunEvent, type RunState } from '@orch/core';
import { readEventsFrom } from './journal.js';
import { runDirPaths } from './paths.js';

/** What a listener is told with the new events. */
export interface FollowNotice {
  /** The state was rebuilt from the journal's start (the first read, or the journal shrank). */
  reset: boolean;
}

export type JournalListener = (events: RunEvent[], state: RunState, notice: FollowNotice) => void;

export interface JournalFollowerOptions {
  /** Called when a read woken by the watch fails (the follower keeps going). */
  onError?: (e: unknown) => void;
}

export class JournalFollower {
  /** The state derived from every event read so far; undefined before `run.started`. */
  state: RunState | undefined;
  /** Lines read so far that were skipped for a missing or wrong MAC. */
  unsigned = 0;
  private offset = 0;
  private fromStart = true;
  /** Reads one at a time, so two callers never apply the same entries twice. */
  private readonly reads = new Lanes(1);
  private watcher: FSWatcher | undefined;
  private readonly listeners = new Set<JournalListener>();
  private readonly onError: (e: unknown) => void;

  constructor(
    readonly runDir: string,
    opts: JournalFollowerOptions = {},
  ) {
    this.onError = opts.onError ?? traced('journal.follow');
  }

  /** Applies every complete line appended since the last read; returns the new events. */
  async refresh(): Promise<RunEvent[]> {
    return this.reads.run(() => this.readNew());
  }

  private async readNew(): Promise<RunEvent[]> {
    let chunk = await readEventsFrom(this.runDir, this.offset);
    if (chunk.size < this.offset) {
      // The journal shrank: what was read belongs to another journal. Start over.
      this.state = undefined;
      this.unsigned = 0;
      this.fromStart = true;
      chunk = await readEventsFrom(this.runDir, 0);
    }
    this.offset = chunk.end;
    this.unsigned += chunk.unsigned;
    for (const ev of chunk.events) this.state = applyEvent(this.state, ev);
    if (chunk.events.length > 0 && this.state) {
      const notice = { reset: this.fromStart };
      this.fromStart = false;
      for (const l of this.listeners) l(chunk.events, this.state, notice);
    }
    return chunk.events;
  }

  /** Calls `listener` with every batch of events newly applied; returns the unsubscribe. */
  subscribe(listener: JournalListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads what is there, then every append as it happens (no polling) until `close`. */
  follow(): void {
    if (this.watcher) return;
    const file = basename(runDirPaths(this.runDir).events);
    // The directory must exist to be watched; a view may start before the run does.
    mkdirSync(this.runDir, { recursive: true });
    this.watcher = watch(this.runDir, (_type, name) => {
      if (name !== null && name !== file) return;
      this.refresh().catch(this.onError);
    });
    this.watcher.on('error', this.onError);
    this.refresh().catch(this.onError);
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}

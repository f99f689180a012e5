/**
 * The supervisor's view of the journal: the derived state, kept current by reading only the bytes
 * appended since the last read (by this process or by workers' `orch task ...` commands).
 */
import { watch, type FSWatcher } from 'node:fs';
import {
  applyEvent,
  assertLegal,
  traced,
  type RunEvent,
  type RunEventInput,
  type RunState,
} from '@orch/core';
import { appendEvent, readEventsFrom, repairJournal } from '@orch/store';
import { basename, dirname } from 'node:path';
import type { RunLog } from '../ports/run-log.js';

/** The file-backed `RunLog`. */
export class RunJournal implements RunLog {
  state: RunState | undefined;
  private offset = 0;
  private watcher: FSWatcher | undefined;
  private reading: Promise<RunEvent[]> | undefined;
  private readonly listeners = new Set<(events: RunEvent[]) => void>();

  constructor(
    readonly runDir: string,
    readonly eventsPath: string,
  ) {}

  /** Appends an event and returns once the state includes it. */
  async append(ev: RunEventInput): Promise<RunEvent> {
    // The lifecycle table refuses an illegal task event (ERR_ORCH_ILLEGAL_TRANSITION), judged on
    // the journal as it is now (others append too).
    await this.refresh();
    assertLegal(this.state, ev);
    const written = await appendEvent(this.runDir, ev);
    await this.refresh();
    return written;
  }

  /** Applies every complete line appended since the last read; returns the new events. */
  async refresh(): Promise<RunEvent[]> {
    // Reads are serialized so two callers never apply the same bytes twice.
    while (this.reading) await this.reading.catch(traced('journal.read'));
    this.reading = this.readNew();
    try {
      return await this.reading;
    } finally {
      this.reading = undefined;
    }
  }

  private async readNew(): Promise<RunEvent[]> {
    const chunk = await readEventsFrom(this.runDir, this.offset);
    this.offset = chunk.end;
    for (const ev of chunk.events) this.state = applyEvent(this.state, ev);
    if (chunk.events.length > 0) for (const l of this.listeners) l(chunk.events);
    return chunk.events;
  }

  async history(): Promise<RunEvent[]> {
    return (await readEventsFrom(this.runDir, 0)).events;
  }

  /** Calls `onEvents` with every event newly applied, whoever appended it. */
  subscribe(onEvents: (events: RunEvent[]) => void): () => void {
    this.listeners.add(onEvents);
    return () => this.listeners.delete(onEvents);
  }

  /** Watches the journal file so appends by other processes are read at once; no polling. */
  follow(): void {
    if (this.watcher) return;
    const file = basename(this.eventsPath);
    this.watcher = watch(dirname(this.eventsPath), (_type, name) => {
      if (name !== null && name !== file) return;
      this.refresh().catch(traced('journal.follow'));
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  async tornTail(): Promise<boolean> {
    return (await readEventsFrom(this.runDir, 0)).tornTail;
  }

  /** `repairJournal` journals its own repair; the state then includes it. */
  async repairTail(): Promise<boolean> {
    const { repaired } = await repairJournal(this.runDir);
    await this.refresh();
    return repaired;
  }
}

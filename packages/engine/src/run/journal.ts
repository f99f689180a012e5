/**
 * The file-backed `RunLog`: the store's `JournalFollower` (the one reader of `events.jsonl`, shared
 * with every view) plus the supervisor's append, which the lifecycle table guards.
 */
import { assertLegal, type RunEvent, type RunEventInput, type RunState } from '@orch/core';
import { JournalFollower, appendEvent, readEventsFrom, repairJournal } from '@orch/store';
import type { RunLog } from '../ports/run-log.js';

export class RunJournal implements RunLog {
  private readonly follower: JournalFollower;

  /** `eventsPath` is the run's `events.jsonl` (in `runDir`, as `runPaths` names it). */
  constructor(
    readonly runDir: string,
    readonly eventsPath: string,
  ) {
    this.follower = new JournalFollower(runDir);
  }

  get state(): RunState | undefined {
    return this.follower.state;
  }

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

  refresh(): Promise<RunEvent[]> {
    return this.follower.refresh();
  }

  async history(): Promise<RunEvent[]> {
    return (await readEventsFrom(this.runDir, 0)).events;
  }

  subscribe(onEvents: (events: RunEvent[]) => void): () => void {
    return this.follower.subscribe((events) => onEvents(events));
  }

  /** Watches the run directory so appends by other processes are read at once; no polling. */
  follow(): void {
    this.follower.follow();
  }

  close(): void {
    this.follower.close();
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

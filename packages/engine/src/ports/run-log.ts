/**
 * The run log: the one ordered record of a run (today `events.jsonl`, read by `RunJournal`; a Redis
 * stream in a distributed run). Only the supervisor appends; the state is the reducer over it.
 */
import type { RunEvent, RunEventInput, RunState } from '@orch/core';

export interface RunLog {
  /** The state derived from every event read so far; undefined before the first event. */
  readonly state: RunState | undefined;
  /** Appends an event and returns once `state` includes it. */
  append(ev: RunEventInput): Promise<RunEvent>;
  /** Reads events appended elsewhere since the last read; returns them. */
  refresh(): Promise<RunEvent[]>;
  /** Every event of the run from the first, in order (a resumed supervisor's look back). */
  history(): Promise<RunEvent[]>;
  /** Calls `onEvents` with every event newly applied, whoever appended it; returns the unsubscribe. */
  subscribe(onEvents: (events: RunEvent[]) => void): () => void;
  /** Reads others' appends as they happen (a file watch, a stream read) until `close`. */
  follow(): void;
  close(): void;
  /** The log ends in a record cut short by a crash (a file's half-written last line). */
  tornTail(): Promise<boolean>;
  /** Cuts such a record off and journals the repair; false when there was none. */
  repairTail(): Promise<boolean>;
}

/**
 * The run log in memory: the same schema check and reducer as the journal file, no file. Shaped like
 * the engine's `RunLog` port.
 */
import { RunEvent, applyEvent, type RunEventInput, type RunState } from '@orch/core';

export class MemoryRunLog {
  state: RunState | undefined;
  readonly events: RunEvent[] = [];
  private readonly listeners = new Set<(events: RunEvent[]) => void>();

  constructor(
    initial: readonly RunEvent[] = [],
    private readonly now: () => number = Date.now,
  ) {
    for (const ev of initial) this.apply(ev);
  }

  private apply(ev: RunEvent): void {
    this.events.push(ev);
    this.state = applyEvent(this.state, ev);
  }

  async append(input: RunEventInput): Promise<RunEvent> {
    const parsed = RunEvent.safeParse({ ...input, ts: input.ts ?? new Date(this.now()).toISOString() });
    if (!parsed.success) throw new Error(`invalid ${String(input.type)} event: ${parsed.error.message}`);
    this.apply(parsed.data);
    for (const l of this.listeners) l([parsed.data]);
    return parsed.data;
  }

  async refresh(): Promise<RunEvent[]> {
    return [];
  }

  async history(): Promise<RunEvent[]> {
    return [...this.events];
  }

  subscribe(onEvents: (events: RunEvent[]) => void): () => void {
    this.listeners.add(onEvents);
    return () => this.listeners.delete(onEvents);
  }

  follow(): void {}

  close(): void {}

  /** Memory holds whole events only: nothing is ever cut short. */
  async tornTail(): Promise<boolean> {
    return false;
  }

  async repairTail(): Promise<boolean> {
    return false;
  }

  /** The events of one type, for assertions. */
  ofType<T extends RunEvent['type']>(type: T): Extract<RunEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
  }
}

/**
 * An external store for the views: holds the latest `RunState`, applies journal events to it, and
 * tells subscribers once per batch. The CLI feeds it from the journal watcher; tests feed it events.
 */
import { applyEvent, type RunEvent, type RunState } from '@orch/core';
import type { DashboardSource, MailboxItem } from '../source.js';

export interface DetailReaders {
  readLogTail(task: string, lines: number): Promise<string[]>;
  readVerification(task: string): Promise<string[] | undefined>;
  readMailbox(task: string): Promise<MailboxItem[]>;
}

const noReaders: DetailReaders = {
  readLogTail: () => Promise.resolve([]),
  readVerification: () => Promise.resolve(undefined),
  readMailbox: () => Promise.resolve([]),
};

export class DashboardStore implements DashboardSource {
  private state: RunState | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly readers: DetailReaders;
  private hostMap: ReadonlyMap<string, string> = new Map();
  /** Incremented on every change; lets views notice changes of a state mutated in place. */
  version = 0;

  constructor(opts: { state?: RunState | undefined; readers?: Partial<DetailReaders> } = {}) {
    this.state = opts.state;
    this.readers = { ...noReaders, ...opts.readers };
  }

  getState(): RunState | undefined {
    return this.state;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Applies new journal events in order and notifies once (nothing happens for an empty batch). */
  apply(events: readonly RunEvent[]): void {
    if (events.length === 0) return;
    let s = this.state;
    for (const ev of events) s = applyEvent(s, ev);
    this.state = s;
    this.changed();
  }

  /** Replaces the state with one reduced elsewhere (the journal watcher's). */
  replace(state: RunState | undefined): void {
    this.state = state;
    this.changed();
  }

  hosts(): ReadonlyMap<string, string> {
    return this.hostMap;
  }

  /** Sets where each task's attempt runs; notifies only when that changed. */
  setHosts(hosts: ReadonlyMap<string, string>): void {
    const same = hosts.size === this.hostMap.size && [...hosts].every(([k, v]) => this.hostMap.get(k) === v);
    if (same) return;
    this.hostMap = new Map(hosts);
    this.changed();
  }

  readLogTail(task: string, lines: number): Promise<string[]> {
    return this.readers.readLogTail(task, lines);
  }

  readVerification(task: string): Promise<string[] | undefined> {
    return this.readers.readVerification(task);
  }

  readMailbox(task: string): Promise<MailboxItem[]> {
    return this.readers.readMailbox(task);
  }

  private changed(): void {
    this.version += 1;
    for (const l of [...this.listeners]) l();
  }
}

/**
 * What the views read. The TUI never touches files, git or tmux itself: the CLI hands it a
 * `DashboardSource` fed by the run journal and a `PaneSource` for worker output, so every view
 * is testable with synthetic events.
 */
import type { RunState, TaskState } from '@orch/core';

export interface MailboxItem {
  ts?: string;
  from?: string;
  to?: string;
  text: string;
}

export interface DashboardSource {
  /** The current state of the run; `undefined` before `run.started` is journaled. */
  getState(): RunState | undefined;
  /** Called after each change of state; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  /** The last `lines` lines of the task's worker log. */
  readLogTail(task: string, lines: number): Promise<string[]>;
  /** The task's verification report as display lines, if there is one. */
  readVerification(task: string): Promise<string[] | undefined>;
  readMailbox(task: string): Promise<MailboxItem[]>;
  /** The host of each task's attempt, by task id (a distributed run's); absent locally. */
  hosts?(): ReadonlyMap<string, string>;
}

/** The latest output lines of one worker (a log tail, or a tmux pane capture). */
export interface PaneSource {
  capture(task: TaskState, lines: number): Promise<string[]>;
}

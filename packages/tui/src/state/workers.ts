/** The workers view as data: which workers get a panel, which collapse, and how the grid fits the terminal. */
import type { RunState, TaskState } from '@orch/core';
import { cleanLine } from '../format.js';
import { isLiveWorker, selectRow, tasksInOrder, type TaskRow } from './selectors.js';

export interface WorkerInfo {
  task: TaskState;
  row: TaskRow;
}

export interface WorkersModel {
  /** Workers with a live session: one panel each. */
  live: WorkerInfo[];
  /** Workers that ran and stopped: one line each. */
  finished: WorkerInfo[];
  /** Tasks ready to start (their dependencies are merged) that wait for a free worker slot. */
  waiting: number;
  /** Tasks not started yet because a dependency is not merged yet. */
  afterDependencies: number;
}

export function selectWorkers(state: RunState, now: number): WorkersModel {
  const model: WorkersModel = { live: [], finished: [], waiting: 0, afterDependencies: 0 };
  for (const t of tasksInOrder(state)) {
    if (isLiveWorker(t)) model.live.push({ task: t, row: selectRow(t, now) });
    else if (t.startedAt !== undefined) model.finished.push({ task: t, row: selectRow(t, now) });
    else if (t.status === 'ready') model.waiting += 1;
    else if (t.status === 'pending') model.afterDependencies += 1;
  }
  return model;
}

/** The footer line about tasks without a worker yet, or undefined when there are none. */
export function waitingLine(model: WorkersModel): string | undefined {
  const parts = [
    ...(model.waiting > 0 ? [`${model.waiting} task(s) waiting for a worker`] : []),
    ...(model.afterDependencies > 0 ? [`${model.afterDependencies} task(s) waiting on dependencies`] : []),
  ];
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

/**
 * orch's own acknowledgement of a report (`orch task progress` prints "recorded progress for task
 * a (run …)"): in a shell worker's output it would hide what the worker said.
 */
const ORCH_ACK = /^recorded [\w.-]+ for task \S+ \(run \S+\)$/;

/**
 * What a worker's panel shows: its output without orch's acknowledgements, and its latest progress
 * message (from the journal) when the output does not show it already.
 */
export function workerLines(task: TaskState, output: readonly string[], room: number): string[] {
  const lines = output.map(cleanLine).filter((l) => !ORCH_ACK.test(l.trim()));
  const said = task.progress.at(-1);
  const withSaid =
    said !== undefined && !lines.some((l) => l.includes(said)) ? [...lines, `› ${cleanLine(said)}`] : lines;
  return withSaid.slice(-Math.max(0, room));
}

export interface GridLayout {
  perRow: number;
  gridRows: number;
  panelWidth: number;
  panelHeight: number;
  /** Output lines that fit inside one panel (height minus border and title). */
  lines: number;
}

export const MIN_PANEL_WIDTH = 40;
const MIN_PANEL_HEIGHT = 5;

/**
 * Fits `count` panels into `columns` × `height` cells: as many per row as stay at least
 * MIN_PANEL_WIDTH wide, and rows sharing the height (never below MIN_PANEL_HEIGHT; the view scrolls off).
 */
export function gridLayout(count: number, columns: number, height: number): GridLayout {
  const n = Math.max(1, count);
  const perRow = Math.max(1, Math.min(n, Math.floor(columns / MIN_PANEL_WIDTH)));
  const gridRows = Math.ceil(n / perRow);
  const panelWidth = Math.max(10, Math.floor(columns / perRow));
  const panelHeight = Math.max(MIN_PANEL_HEIGHT, Math.floor(height / gridRows));
  return { perRow, gridRows, panelWidth, panelHeight, lines: panelHeight - 3 };
}

/** The workers view as data: which workers get a panel, which collapse, and how the grid fits the terminal. */
import type { RunState, TaskState } from '@orch/core';
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
  /** Tasks that never had a worker yet. */
  waiting: number;
}

export function selectWorkers(state: RunState, now: number): WorkersModel {
  const model: WorkersModel = { live: [], finished: [], waiting: 0 };
  for (const t of tasksInOrder(state)) {
    if (isLiveWorker(t)) model.live.push({ task: t, row: selectRow(t, now) });
    else if (t.startedAt !== undefined) model.finished.push({ task: t, row: selectRow(t, now) });
    else model.waiting += 1;
  }
  return model;
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

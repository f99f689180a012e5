/**
 * One plain-text frame of each view, for `--once`, pipes and CI logs. No ink, no React: it loads
 * fast and its text is stable for scripts.
 */
import type { RunState } from '@orch/core';
import { padEnd, truncate } from './format.js';
import {
  countSegments,
  footerLines,
  headerLines,
  rowLine,
  tableColumns,
  tableTitleLine,
  type Line,
} from './lines.js';
import { selectFooter, selectHeader, selectRows } from './state/selectors.js';
import { selectWorkers, waitingLine, workerLines } from './state/workers.js';
import { ansi } from './status.js';

export interface PlainOptions {
  /** Milliseconds since the epoch used for elapsed times (default: now). */
  now?: number;
  /** Line width (default 120). */
  width?: number;
  /** ANSI colours (default off). */
  color?: boolean;
  /** The host of each task's attempt (a distributed run's), shown in a HOST column. */
  hosts?: ReadonlyMap<string, string>;
}

export function renderLine(line: Line, color = false): string {
  return line
    .map((s) => {
      let t = s.text;
      if (s.color) t = ansi(s.color, t, color);
      if (s.bold) t = ansi('bold', t, color);
      if (s.dim) t = ansi('dim', t, color);
      return t;
    })
    .join('')
    .replace(/\s+$/, '');
}

export function renderPlainDashboard(state: RunState, opts: PlainOptions = {}): string {
  const now = opts.now ?? Date.now();
  const width = opts.width ?? 120;
  const rows = selectRows(state, now, opts.hosts);
  const cols = tableColumns(rows, width);
  const lines: Line[] = [
    ...headerLines(selectHeader(state), width),
    [],
    tableTitleLine(cols),
    ...rows.map((r) => rowLine(r, cols, false)),
    [],
    ...footerLines(selectFooter(state, now)),
  ];
  return `${lines.map((l) => renderLine(l, opts.color)).join('\n')}\n`;
}

/** `panes` holds the latest output lines of each live worker, by task id. */
export function renderPlainWorkers(
  state: RunState,
  panes: ReadonlyMap<string, string[]>,
  opts: PlainOptions & { lines?: number } = {},
): string {
  const now = opts.now ?? Date.now();
  const width = opts.width ?? 120;
  const color = opts.color ?? false;
  const model = selectWorkers(state, now);
  const out: string[] = [];
  const h = selectHeader(state);
  out.push(
    renderLine([{ text: 'orch workers ', bold: true }, { text: 'run ', dim: true }, { text: h.run }], color),
  );
  if (model.live.length === 0) out.push('no running workers');
  for (const w of model.live) {
    const title = ` ${w.row.id} ${w.row.glyph} ${w.row.statusText} ${w.row.elapsed} `;
    out.push(`──${ansi(w.row.color, title, color)}${'─'.repeat(Math.max(2, width - title.length - 2))}`);
    const body = workerLines(w.task, panes.get(w.task.id) ?? [], opts.lines ?? 10);
    if (body.length === 0) out.push('  (no output yet)');
    for (const l of body) out.push(`  ${truncate(l, width - 2)}`.replace(/\s+$/, ''));
  }
  if (model.finished.length > 0) out.push('');
  for (const w of model.finished) {
    const head = `${padEnd(w.row.id, 20)} ${padEnd(`${w.row.glyph} ${w.row.statusText}`, 14)} ${padEnd(w.row.elapsed, 8)} `;
    out.push(
      `${ansi(w.row.color, head, color)}${truncate(w.row.message, Math.max(0, width - head.length))}`.replace(
        /\s+$/,
        '',
      ),
    );
  }
  const waiting = waitingLine(model);
  if (waiting) out.push(waiting);
  out.push(renderLine(countSegments(selectFooter(state, now).counts), color));
  return `${out.join('\n')}\n`;
}

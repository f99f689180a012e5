/**
 * The dashboard as styled lines of text. The live view renders these segments with ink and the
 * plain frame with ANSI codes (or none), so both show the same columns and words.
 */
import type { TaskStatus } from '@orch/core';
import { padEnd, padStart, truncate } from './format.js';
import type { FooterInfo, HeaderInfo, TaskRow } from './state/selectors.js';
import { STATUS_LOOK, phaseColor, type Tone } from './status.js';

export interface Segment {
  text: string;
  color?: Tone;
  bold?: boolean;
  dim?: boolean;
  inverse?: boolean;
}
export type Line = Segment[];

export const KEY_HELP = {
  dashboard: '↑/↓ select · enter details · w workers · q quit',
  detail: 'esc back · w workers · q quit',
  workers: 'esc back · q quit',
} as const;

type ColumnKey = 'id' | 'status' | 'agent' | 'host' | 'context' | 'cost' | 'elapsed' | 'message';

export interface Column {
  key: ColumnKey;
  title: string;
  width: number;
  right?: boolean;
}

const TITLES: Record<ColumnKey, string> = {
  id: 'TASK',
  status: 'STATUS',
  agent: 'AGENT',
  host: 'HOST',
  context: 'CONTEXT',
  cost: 'COST',
  elapsed: 'ELAPSED',
  message: 'LAST MESSAGE',
};

/** Width of the selection marker in front of every row. */
export const MARKER_WIDTH = 2;

function widest(
  rows: TaskRow[],
  pick: (r: TaskRow) => string,
  title: string,
  min: number,
  max: number,
): number {
  let w = Array.from(title).length;
  for (const r of rows) w = Math.max(w, Array.from(pick(r)).length);
  return Math.min(max, Math.max(min, w));
}

/** Column widths for a terminal `width` wide; the message takes what is left, narrow terminals drop columns. */
export function tableColumns(rows: TaskRow[], width: number): Column[] {
  const fixed: Column[] = [
    { key: 'id', title: TITLES.id, width: widest(rows, (r) => r.id, TITLES.id, 4, 28) },
    {
      key: 'status',
      title: TITLES.status,
      width: widest(rows, (r) => `x ${r.statusText}`, TITLES.status, 8, 16),
    },
    { key: 'agent', title: TITLES.agent, width: widest(rows, (r) => r.agent, TITLES.agent, 5, 24) },
    // Only a distributed run knows hosts: the local dashboard keeps its columns.
    ...(rows.some((r) => r.host !== '')
      ? [{ key: 'host' as const, title: TITLES.host, width: widest(rows, (r) => r.host, TITLES.host, 4, 20) }]
      : []),
    {
      key: 'context',
      title: TITLES.context,
      width: widest(rows, (r) => r.context, TITLES.context, 7, 18),
      right: true,
    },
    { key: 'cost', title: TITLES.cost, width: widest(rows, (r) => r.cost, TITLES.cost, 5, 8), right: true },
    {
      key: 'elapsed',
      title: TITLES.elapsed,
      width: widest(rows, (r) => r.elapsed, TITLES.elapsed, 7, 8),
      right: true,
    },
  ];
  // Least useful first when the terminal is narrow.
  const dropOrder: ColumnKey[] = ['agent', 'cost', 'host', 'context', 'elapsed'];
  let cols = fixed;
  const used = (cs: Column[]): number => MARKER_WIDTH + cs.reduce((n, c) => n + c.width + 1, 0);
  for (const key of dropOrder) {
    if (width - used(cols) >= 12) break;
    cols = cols.filter((c) => c.key !== key);
  }
  const rest = width - used(cols);
  return rest > 0 ? [...cols, { key: 'message', title: TITLES.message, width: rest }] : cols;
}

function cell(text: string, col: Column): string {
  return col.right ? padStart(text, col.width) : padEnd(text, col.width);
}

function joinCells(cells: Segment[]): Line {
  const out: Line = [];
  cells.forEach((c, i) => {
    if (i > 0) out.push({ text: ' ' });
    out.push(c);
  });
  return out;
}

export function tableTitleLine(cols: Column[]): Line {
  return [
    { text: ' '.repeat(MARKER_WIDTH) },
    ...joinCells(cols.map((c) => ({ text: cell(c.title, c), bold: true }))),
  ];
}

export function rowLine(row: TaskRow, cols: Column[], selected: boolean): Line {
  const cells = cols.map((c): Segment => {
    switch (c.key) {
      case 'status':
        return { text: cell(`${row.glyph} ${row.statusText}`, c), color: row.color };
      case 'message':
        // The last column is not padded: trailing spaces only cost the renderer time.
        return row.attention
          ? { text: truncate(row.message, c.width), color: 'yellow', bold: true }
          : {
              text: truncate(row.message, c.width),
              dim: row.status === 'pending' || row.status === 'cancelled',
            };
      case 'id':
        return { text: cell(row.id, c), bold: selected };
      case 'agent':
      case 'host':
      case 'context':
      case 'cost':
      case 'elapsed':
        return { text: cell(row[c.key], c) };
    }
  });
  return [{ text: selected ? '› ' : '  ', color: 'cyan', bold: true }, ...joinCells(cells)];
}

export function headerLines(h: HeaderInfo, width: number): Line[] {
  return [
    [
      { text: 'orch ', bold: true },
      { text: 'run ', dim: true },
      { text: h.run, bold: true },
      { text: '  base ', dim: true },
      { text: h.base },
      { text: '  staging ', dim: true },
      { text: `${h.staging} @ ${h.stagingCommit}` },
    ],
    [{ text: 'request ', dim: true }, { text: truncate(h.request, Math.max(10, width - 8)) }],
  ];
}

export function countSegments(counts: { status: TaskStatus; count: number }[]): Segment[] {
  const out: Segment[] = [];
  for (const { status, count } of counts) {
    const look = STATUS_LOOK[status];
    if (out.length > 0) out.push({ text: '  ' });
    out.push({ text: `${look.glyph} ${count} ${look.label}`, color: look.color });
  }
  return out;
}

export function footerLines(f: FooterInfo, help?: string): Line[] {
  const lines: Line[] = [
    [
      { text: 'phase ', dim: true },
      {
        text: f.interrupted ? `${f.phase} (supervisor stopped)` : f.phase,
        color: phaseColor(f.phase),
        bold: true,
      },
      { text: '  elapsed ', dim: true },
      { text: f.elapsed },
      { text: '  tokens ', dim: true },
      { text: `${f.inputTokens} in / ${f.outputTokens} out` },
      { text: '  cost ', dim: true },
      { text: f.cost },
    ],
    countSegments(f.counts),
  ];
  if (help) lines.push([{ text: help, dim: true }]);
  return lines;
}

export function lineText(line: Line): string {
  return line.map((s) => s.text).join('');
}

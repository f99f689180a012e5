/** How each task status and run phase looks: a one-column glyph, a colour and a label. */
import type { RunPhase, TaskStatus } from '@orch/core';

export type Tone = 'gray' | 'blue' | 'cyan' | 'magenta' | 'green' | 'red' | 'yellow' | 'white';

export interface StatusLook {
  glyph: string;
  color: Tone;
  label: string;
}

export const STATUS_LOOK: Record<TaskStatus, StatusLook> = {
  pending: { glyph: '·', color: 'gray', label: 'pending' },
  ready: { glyph: '○', color: 'blue', label: 'ready' },
  running: { glyph: '▶', color: 'cyan', label: 'running' },
  verifying: { glyph: '◇', color: 'magenta', label: 'verifying' },
  merging: { glyph: '⇢', color: 'blue', label: 'merging' },
  merged: { glyph: '✓', color: 'green', label: 'merged' },
  failed: { glyph: '✗', color: 'red', label: 'failed' },
  blocked: { glyph: '■', color: 'yellow', label: 'blocked' },
  needs_attention: { glyph: '!', color: 'yellow', label: 'attention' },
  cancelled: { glyph: '⊘', color: 'gray', label: 'cancelled' },
};

/** Display order of the per-status counts in the footer. */
export const STATUS_ORDER: TaskStatus[] = [
  'running',
  'verifying',
  'merging',
  'ready',
  'pending',
  'blocked',
  'needs_attention',
  'merged',
  'failed',
  'cancelled',
];

/** Statuses in which a worker or orch is actively doing something (the clock ticks). */
export const ACTIVE_STATUSES: ReadonlySet<TaskStatus> = new Set(['running', 'verifying', 'merging']);

export function phaseColor(phase: RunPhase): Tone {
  switch (phase) {
    case 'succeeded':
      return 'green';
    case 'failed':
    case 'aborted':
      return 'red';
    case 'needs_attention':
      return 'yellow';
    case 'starting':
    case 'running':
    case 'reviewing':
    case 'integrating':
    case 'promoting':
      return 'cyan';
  }
}

const ANSI: Record<Tone | 'bold' | 'dim' | 'inverse', [number, number]> = {
  gray: [90, 39],
  blue: [34, 39],
  cyan: [36, 39],
  magenta: [35, 39],
  green: [32, 39],
  red: [31, 39],
  yellow: [33, 39],
  white: [37, 39],
  bold: [1, 22],
  dim: [2, 22],
  inverse: [7, 27],
};

/** SGR colouring for the plain frame (the live views colour through ink). */
export function ansi(style: keyof typeof ANSI, text: string, enabled: boolean): string {
  if (!enabled || text === '') return text;
  const [open, close] = ANSI[style];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

/** Which view is open and which task is selected: a pure reducer, and the key bindings that drive it. */

export type View = 'dashboard' | 'detail' | 'workers';

export interface UiState {
  view: View;
  selected: number;
  /** Where escape returns to from the workers view. */
  back: View;
}

export type UiAction =
  | { type: 'up'; by?: number }
  | { type: 'down'; by?: number }
  | { type: 'first' }
  | { type: 'last' }
  | { type: 'open' }
  | { type: 'workers' }
  | { type: 'back' }
  | { type: 'quit' };

export function initialUi(view: View = 'dashboard'): UiState {
  return { view, selected: 0, back: 'dashboard' };
}

/** `count` is the number of task rows; selection stays inside them. */
export function uiReducer(s: UiState, a: UiAction, count: number): UiState {
  const last = Math.max(0, count - 1);
  const clamp = (n: number): number => Math.min(last, Math.max(0, n));
  switch (a.type) {
    case 'up':
      return s.view === 'dashboard' ? { ...s, selected: clamp(s.selected - (a.by ?? 1)) } : s;
    case 'down':
      return s.view === 'dashboard' ? { ...s, selected: clamp(s.selected + (a.by ?? 1)) } : s;
    case 'first':
      return s.view === 'dashboard' ? { ...s, selected: 0 } : s;
    case 'last':
      return s.view === 'dashboard' ? { ...s, selected: last } : s;
    case 'open':
      return s.view === 'dashboard' && count > 0 ? { ...s, view: 'detail', selected: clamp(s.selected) } : s;
    case 'workers':
      if (s.view === 'workers') return { ...s, view: s.back };
      return { ...s, view: 'workers', back: s.view };
    case 'back':
      if (s.view === 'workers') return { ...s, view: s.back === 'workers' ? 'dashboard' : s.back };
      if (s.view === 'detail') return { ...s, view: 'dashboard' };
      return s;
    case 'quit':
      // Handled by the view (it exits); nothing changes here.
      return s;
  }
}

export interface KeyPress {
  upArrow?: boolean;
  downArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
}

/** Maps one key press (ink's `useInput` arguments) to an action, or nothing. */
export function keyToAction(input: string, key: KeyPress): UiAction | undefined {
  if (key.ctrl && input === 'c') return { type: 'quit' };
  if (key.upArrow || input === 'k') return { type: 'up' };
  if (key.downArrow || input === 'j') return { type: 'down' };
  if (key.pageUp) return { type: 'up', by: 10 };
  if (key.pageDown) return { type: 'down', by: 10 };
  if (key.home || input === 'g') return { type: 'first' };
  if (key.end || input === 'G') return { type: 'last' };
  if (key.return) return { type: 'open' };
  if (key.escape) return { type: 'back' };
  if (input === 'w') return { type: 'workers' };
  if (input === 'q') return { type: 'quit' };
  return undefined;
}

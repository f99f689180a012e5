import { describe, expect, it } from 'vitest';
import {
  cleanLine,
  formatContext,
  formatCost,
  formatDuration,
  formatTokens,
  oneLine,
  padStart,
  truncate,
} from '../src/format.js';

describe('formatTokens', () => {
  it('uses k and M with at most one or two decimals', () => {
    expect(formatTokens(0)).toBe('0');
    expect(formatTokens(950)).toBe('950');
    expect(formatTokens(1000)).toBe('1k');
    expect(formatTokens(45_200)).toBe('45.2k');
    expect(formatTokens(45_249)).toBe('45.2k');
    expect(formatTokens(200_000)).toBe('200k');
    expect(formatTokens(1_250_000)).toBe('1.25M');
    expect(formatTokens(1_000_000)).toBe('1M');
  });
});

describe('formatContext', () => {
  it('shows used/window (percent)', () => {
    expect(formatContext({ contextTokens: 45_200, contextWindow: 200_000 })).toBe('45.2k/200k (23%)');
    expect(formatContext({ contextTokens: 190_000, contextWindow: 200_000 })).toBe('190k/200k (95%)');
  });
  it('shows only the used tokens without a window, and a dash before the first turn', () => {
    expect(formatContext({ contextTokens: 12_000, contextWindow: 0 })).toBe('12k');
    expect(formatContext({ contextTokens: 0, contextWindow: 0 })).toBe('-');
  });
});

describe('formatCost and formatDuration', () => {
  it('formats money', () => {
    expect(formatCost(0)).toBe('$0.00');
    expect(formatCost(0.004)).toBe('<$0.01');
    expect(formatCost(0.4321)).toBe('$0.43');
    expect(formatCost(123.6)).toBe('$124');
  });
  it('formats spans', () => {
    expect(formatDuration(undefined)).toBe('-');
    expect(formatDuration(42_900)).toBe('42s');
    expect(formatDuration(185_000)).toBe('3m05s');
    expect(formatDuration(7_620_000)).toBe('2h07m');
  });
});

describe('untrusted text', () => {
  it('drops escape sequences and control characters so messages cannot drive the terminal', () => {
    expect(oneLine('ok\u001b[2J\u001b[31mred\u001b[0m\nnext\u0007')).toBe('okred next');
    expect(cleanLine('\u001b]0;title\u0007a\tb\u001b[1mc')).toBe('a  bc');
  });
  it('truncates with an ellipsis and pads', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
    expect(padStart('7s', 5)).toBe('   7s');
  });
});

import { describe, expect, it } from 'vitest';
import { cleanLine, oneLine, terminalSafe, terminalSafeLine } from '../src/index.js';

const OSC52 = '\u001b]52;c;ZWNobyBwd25lZA==\u0007';
const CLEAR = '\u001b[2J';

describe('terminal-safe text', () => {
  it('removes clipboard writes, screen clears and other escape sequences whole', () => {
    expect(terminalSafe(`a${OSC52}b${CLEAR}c\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\`)).toBe(
      'abclink',
    );
    expect(terminalSafe('\u001bP+q\u001b\\x')).toBe('x');
  });

  it('shows every other control character as \\xNN, keeping newlines and tabs', () => {
    expect(terminalSafe('one\r\ntwo\tthree\rfour\u0007\u0000\u009b2J\u007f')).toBe(
      'one\ntwo\tthree\\x0dfour\\x07\\x00\\x9b2J\\x7f',
    );
    // A lone ESC (an unterminated sequence) is shown, so nothing after it is interpreted.
    expect(terminalSafe('\u001b]52;c;abc')).toBe('\\x1b]52;c;abc');
    // Bidirectional overrides would reorder what the user reads.
    expect(terminalSafe('evil\u202etxt.sh')).toBe('eviltxt.sh');
  });

  it('leaves plain text as it is (same string)', () => {
    const s = 'src/app.ts: fixed — 100% ✓\n\tnext';
    expect(terminalSafe(s)).toBe(s);
  });

  it('one-line forms: terminalSafeLine escapes newlines, the dashboard forms use spaces', () => {
    expect(terminalSafeLine(`a\nb${CLEAR}\tc`)).toBe('a\\nb c');
    expect(oneLine(`  a\n${OSC52}b\u0007c  `)).toBe('a b c');
    expect(cleanLine(`a\tb${CLEAR}\u0007c`)).toBe('a  bc');
  });
});

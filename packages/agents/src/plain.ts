import { lineParser, stripAnsi } from './lines.js';
import type { OutputParser } from './types.js';

/** Every non-empty line becomes a text event: for agents whose output has no machine format. */
export function createPlainParser(): OutputParser {
  return lineParser((raw) => {
    const text = stripAnsi(raw).trimEnd();
    return text.trim() ? [{ type: 'text', text }] : [];
  });
}

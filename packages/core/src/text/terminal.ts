/**
 * Text from workers (mail bodies, summaries, agent messages, file names, log lines) printed for a
 * human. Workers are untrusted: an escape sequence in a message must not drive the user's
 * terminal (`ESC ] 52` writes the clipboard, `ESC [ 2 J` clears the screen, OSC 8 hides links).
 * Escape sequences are removed whole; every other C0/C1 control character is shown as `\xNN`
 * (or, for one-line views, becomes a space). JSON output never goes through here.
 */

// Escape sequences are exactly what these patterns are for.
// eslint-disable-next-line no-control-regex
const CSI_RE = /\u001b\[[0-?]*[ -/]*[@-~]/g;
// OSC (`ESC ]`), DCS (`ESC P`), SOS/PM/APC (`ESC X`, `ESC ^`, `ESC _`) up to BEL or ST.
// eslint-disable-next-line no-control-regex
const STRING_SEQ_RE = /\u001b[\]PX^_][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_RUN_RE = /[\u0000-\u001f\u007f-\u009f]+/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_RE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
// Bidirectional overrides and isolates reorder what the user reads (a file name can hide `.sh`).
const BIDI_RE = /[\u202a-\u202e\u2066-\u2069]/g;
const BIDI_ANY = /[\u202a-\u202e\u2066-\u2069]/;

const hex = (c: string): string => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

function withoutSequences(text: string): string {
  return text.replace(STRING_SEQ_RE, '').replace(CSI_RE, '').replace(BIDI_RE, '');
}

/**
 * Multi-line text safe to print: newlines and tabs stay (a CRLF becomes a newline), escape
 * sequences are removed, any other control character is shown as `\xNN`.
 */
export function terminalSafe(text: string): string {
  // The common case (plain text) allocates nothing.
  if (!UNSAFE_RE.test(text) && !BIDI_ANY.test(text)) return text;
  return withoutSequences(text.replace(/\r\n/g, '\n')).replace(CONTROL_RE, (c) =>
    c === '\n' || c === '\t' ? c : hex(c),
  );
}

/** `terminalSafe` for a value printed on one line (a name, a path, a summary in a table). */
export function terminalSafeLine(text: string): string {
  return terminalSafe(text).replace(/[\n\t]/g, (c) => (c === '\n' ? '\\n' : ' '));
}

/**
 * One display line for the dashboard: escape sequences removed, control characters and line
 * breaks become spaces.
 */
export function oneLine(text: string | undefined): string {
  if (!text) return '';
  return withoutSequences(text).replace(CONTROL_RUN_RE, ' ').trim();
}

/** A log line for the dashboard: escape sequences and control characters removed, tabs two spaces. */
export function cleanLine(text: string): string {
  return withoutSequences(text).replace(/\t/g, '  ').replace(CONTROL_RE, '');
}

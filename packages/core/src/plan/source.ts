/**
 * Reading YAML/JSON documents written by people or agents (plans, config) with errors that point
 * at `file:line:col`. The happy path parses once, with a fast reader (JSON.parse, the line
 * reader of yaml-block.ts for block-style YAML, or js-yaml with the YAML 1.2 core schema); the `yaml` library, which keeps positions and counts alias
 * expansions, is loaded only for errors, for their positions, and for the documents listed at
 * NEEDS_FULL_YAML (aliases, tags, ...). Hostile input (alias bombs, huge or binary files, deep nesting) ends in an
 * OrchError, never in anything else.
 */
import { createRequire } from 'node:module';
import type * as JsYaml from 'js-yaml';
import type * as Yaml from 'yaml';
import { type ErrorCode, OrchError } from '../errors.js';
import { CORE_SCALARS, readYamlBlock } from './yaml-block.js';

let yamlLib: typeof Yaml | undefined;
/** The `yaml` library, loaded on first use (about 40 ms that a valid plan does not need). */
function yaml(): typeof Yaml {
  return (yamlLib ??= createRequire(import.meta.url)('yaml') as typeof Yaml);
}

/** One problem in a source document. `path` is like `tasks[0].files_write[1]`. */
export interface SourceIssue {
  path: string;
  line?: number;
  column?: number;
  message: string;
}

/** Bigger documents are refused before parsing (a 10,000-task plan is about 4 MB). */
export const MAX_SOURCE_BYTES = 16 * 1024 * 1024;
/** Aliases a document may expand; a few legitimate anchors stay far below it. */
export const MAX_ALIAS_COUNT = 100;

export type PathKey = string | number;

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out === '' ? String(k) : `.${String(k)}`;
  }
  return out === '' ? '(document)' : out;
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what this detects
const BINARY = /[\u0000-\u0008\u000E-\u001F\uFFFD]/;

/** A parsed document, with a lazily built position index for error messages. */
export class SourceDoc {
  private doc: Yaml.Document | undefined;
  private lines: Yaml.LineCounter | undefined;

  constructor(
    readonly text: string,
    readonly source: string,
  ) {}

  /** Where the value at `path` (or, with `key`, that key of the map at `path`) starts. */
  locate(path: readonly PathKey[], key?: string): { line: number; column: number } | undefined {
    try {
      const { LineCounter, parseDocument, isMap, isPair, isScalar } = yaml();
      if (!this.doc) {
        this.lines = new LineCounter();
        this.doc = parseDocument(this.text, {
          lineCounter: this.lines,
          prettyErrors: false,
          logLevel: 'error',
        });
      }
      const lines = this.lines as Yaml.LineCounter;
      // Walk down as far as the path exists; a missing field points at its parent.
      let node: unknown = this.doc.contents;
      for (const k of path) {
        const next = (node as { get?: (k: unknown, keep: boolean) => unknown })?.get?.(k, true);
        if (next === undefined || next === null) break;
        node = next;
      }
      if (key !== undefined && isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
        const kn = pair?.key as { range?: [number, number, number] } | undefined;
        if (kn?.range) return toPos(lines, kn.range[0]);
      }
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      return range ? toPos(lines, range[0]) : undefined;
    } catch {
      return undefined;
    }
  }

  issue(path: readonly PathKey[], message: string, key?: string): SourceIssue {
    const pos = this.locate(path, key);
    const p = key === undefined ? path : [...path, key];
    return { path: formatPath(p), ...(pos ? { line: pos.line, column: pos.column } : {}), message };
  }
}

function toPos(lines: Yaml.LineCounter, offset: number): { line: number; column: number } {
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

/** `file:line:col: path: message` lines, for humans. */
export function formatIssues(source: string, issues: readonly SourceIssue[]): string {
  return issues
    .map((i) => {
      const where = i.line === undefined ? source : `${source}:${i.line}:${i.column ?? 1}`;
      const path = i.path === '(document)' ? '' : `${i.path}: `;
      return `${where}: ${path}${i.message}`;
    })
    .join('\n');
}

export function issuesError(
  code: ErrorCode,
  source: string,
  what: string,
  issues: SourceIssue[],
  hint: string,
): OrchError {
  const n = issues.length;
  const shown = issues.slice(0, 50);
  const more = n > shown.length ? `\n  … and ${n - shown.length} more` : '';
  const body = formatIssues(source, shown)
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  return new OrchError(
    code,
    `${source} is not a valid ${what} (${n} problem${n === 1 ? '' : 's'}):\n${body}${more}`,
    {
      hint,
      details: { source, issues },
    },
  );
}

/**
 * Parses YAML or JSON text into plain data. Throws `code` with `details.issues` on any problem.
 * JSON-looking text takes the fast JSON.parse path; anything it rejects goes through YAML for
 * positioned errors.
 */
export function parseSource(
  text: string,
  source: string,
  code: ErrorCode,
  what: string,
  hint: string,
): {
  data: unknown;
  doc: SourceDoc;
} {
  const fail = (message: string, line?: number, column?: number): never => {
    throw issuesError(
      code,
      source,
      what,
      [{ path: '(document)', ...(line ? { line, column } : {}), message }],
      hint,
    );
  };
  if (typeof text !== 'string') fail('expected text');
  if (text.length > MAX_SOURCE_BYTES) {
    fail(`the document is ${text.length} characters; the limit is ${MAX_SOURCE_BYTES} (16 MB)`);
  }
  const bin = BINARY.exec(text);
  if (bin) {
    const before = text.slice(0, bin.index);
    const line = before.split('\n').length;
    const column = bin.index - before.lastIndexOf('\n');
    fail(
      'contains binary bytes (control characters or invalid UTF-8); expected a YAML or JSON text file',
      line,
      column,
    );
  }
  const doc = new SourceDoc(text, source);
  const head = text.trimStart()[0];
  if (head !== '{' && head !== '[') {
    // Block-style YAML as planners write it: the line reader, which bounds the depth itself.
    const block = readYamlBlock(text, MAX_DEPTH);
    if (block) return { data: block.data, doc };
  }
  const scan = prescan(text);
  if (scan.depth > MAX_DEPTH) fail(`the document is nested more than ${MAX_DEPTH} levels deep`);
  if (head === '{' || head === '[') {
    let data: unknown;
    let parsedJson = false;
    try {
      data = JSON.parse(text) as unknown;
      parsedJson = true;
    } catch {
      // fall through: the YAML parser reports the position.
    }
    if (parsedJson) {
      if (dataDepth(data) > MAX_DEPTH) fail(`the document is nested more than ${MAX_DEPTH} levels deep`);
      return { data, doc };
    }
  }
  const fast = readYamlFast(text, scan);
  if (fast) {
    if (dataDepth(fast.data) > MAX_DEPTH) fail(`the document is nested more than ${MAX_DEPTH} levels deep`);
    return { data: fast.data, doc };
  }
  let data: unknown;
  try {
    const { LineCounter, parseDocument } = yaml();
    const lines = new LineCounter();
    const parsed = parseDocument(text, {
      lineCounter: lines,
      prettyErrors: false,
      uniqueKeys: true,
      logLevel: 'error',
    });
    if (parsed.errors.length > 0) {
      const issues = parsed.errors.slice(0, 20).map((e) => {
        const pos = lines.linePos(e.pos[0]);
        const first = (e.message.split('\n')[0] ?? 'malformed YAML').replace(
          / at line \d+, column \d+:?$/,
          '',
        );
        const message = /call stack/i.test(first) ? 'the document is nested too deeply to read' : first;
        return { path: '(document)', line: pos.line, column: pos.col, message };
      });
      throw issuesError(code, source, what, issues, hint);
    }
    data = parsed.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    if (dataDepth(data) > MAX_DEPTH) fail(`the document is nested more than ${MAX_DEPTH} levels deep`);
  } catch (e) {
    if (e instanceof OrchError) throw e;
    if (e instanceof RangeError || /call stack/i.test(String(e)))
      fail('the document is nested too deeply to read');
    const msg = e instanceof Error ? e.message : String(e);
    if (/alias/i.test(msg)) {
      fail(`too many YAML alias expansions (more than ${MAX_ALIAS_COUNT}); refusing a possible alias bomb`);
    }
    fail(`cannot be parsed: ${msg}`);
  }
  return { data, doc };
}

/**
 * Text the fast reader leaves to `yaml`: whatever `yaml` must judge itself (alias bombs are
 * refused by its expansion count), and the spots where js-yaml is laxer than `yaml` or reads
 * differently. A false alarm (` * ` inside a description) only costs time; the property test in
 * plan-fast-path.test.ts compares both readers on random texts.
 */
const NEEDS_FULL_YAML = new RegExp(
  [
    String.raw`(?:^|[\s[{,:])[*!?&]`, // an alias, tag, explicit key or anchor where a node starts
    '<<', // a merge key
    String.raw`[\]}]\s*:(?:\s|$)`, // a flow collection as a key
    String.raw`(?:^|\n)%`, // a directive
    String.raw`\t`, // tabs
    String.raw`(?:^|\s)-[ ]+-`, // a compact nested sequence (- - a)
    String.raw`(?:^|[\s[{,])(?:~|[Nn]ull|NULL)?:(?:[\s,\]}]|$)`, // a null key (~: x)
    String.raw`[{,]\s*(?:~|[Nn]ull|NULL)?\s*[,}]`, // a null key in a flow mapping ({null})
    String.raw`[\]}"']#`, // a comment glued to a quote or bracket
    String.raw`(?:^|\n)(?:---|\.\.\.)(?![\r\n]|$)`, // text after a document marker
    String.raw`\r(?!\n)`, // a bare CR line end
    String.raw`\uFEFF`, // a byte-order mark
    String.raw`[|>](?:[-+]?[1-9]|[1-9]?\+)`, // a block scalar with an indentation or keep indicator
    String.raw`^\s*[|>]`, // a block scalar at the root
  ].join('|'),
);

let jsYaml: { load: typeof JsYaml.load; schema: JsYaml.Schema } | undefined;
/**
 * js-yaml with `yaml`'s YAML 1.2 core schema for plain scalars (so both readers produce the same
 * data), loaded on first use: block-style plans are read by the line reader without it.
 */
function fastYaml(): { load: typeof JsYaml.load; schema: JsYaml.Schema } {
  if (jsYaml) return jsYaml;
  const { FAILSAFE_SCHEMA, Type, load } = createRequire(import.meta.url)('js-yaml') as typeof JsYaml;
  const schema = FAILSAFE_SCHEMA.extend({
    implicit: CORE_SCALARS.map(
      ({ tag, test, construct }) =>
        new Type(`tag:yaml.org,2002:${tag}`, {
          kind: 'scalar',
          resolve: (s: unknown) => typeof s === 'string' && test.test(s),
          construct: (s: string) => construct(s),
        }),
    ),
  });
  return (jsYaml = { load, schema });
}

/**
 * The fast path: js-yaml builds plain data about eight times faster than `yaml` builds a
 * Document. Undefined when the text needs `yaml` or js-yaml rejects it (then `yaml` reports
 * the error with its position).
 */
export function readYamlFast(
  text: string,
  scan: { spansLines: boolean } = prescan(text),
): { data: unknown } | undefined {
  if (scan.spansLines || NEEDS_FULL_YAML.test(text)) return undefined;
  try {
    const { load, schema } = fastYaml();
    return { data: load(text, { schema }) ?? null };
  } catch {
    return undefined;
  }
}

/** Deeper documents are refused; a plan needs about 6 levels. */
export const MAX_DEPTH = 64;

/**
 * One pass over the text before any parser runs: the deepest `[`/`{` nesting outside quoted
 * strings and comments (a cheap guard before the parsers recurse), and whether a quoted string or
 * a flow collection spans lines (the fast reader is laxer than `yaml` about how those are
 * indented, so such texts go to `yaml`). Quotes are recognized where a YAML scalar can start; a
 * misjudged quote only sends the text down the slow path.
 */
function prescan(text: string): { depth: number; spansLines: boolean } {
  let depth = 0;
  let max = 0;
  let quote = '';
  let spansLines = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== '') {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
      else if (c === '\n') spansLines = true;
    } else if (c === '"' || c === "'") {
      // A quote inside a plain scalar (it's) does not open a string; only after space or punctuation.
      const prev = text[i - 1];
      if (prev === undefined || /[\s,[{:]/.test(prev)) quote = c;
    } else if (c === '#') {
      const prev = text[i - 1];
      if (prev === undefined || prev === ' ' || prev === '\t' || prev === '\n' || prev === '\r') {
        const end = text.indexOf('\n', i);
        i = end < 0 ? text.length : end;
      }
    } else if (c === '[' || c === '{') {
      if (++depth > max) max = depth;
    } else if (c === ']' || c === '}') depth = Math.max(0, depth - 1);
    else if (c === '\n' && depth > 0) spansLines = true;
  }
  return { depth: max, spansLines };
}

/** Nesting depth of parsed data, computed without recursion. */
function dataDepth(data: unknown): number {
  let max = 0;
  const values: unknown[] = [data];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop();
    const d = depths.pop() as number;
    if (d > max) {
      max = d;
      if (max > MAX_DEPTH) return max;
    }
    if (Array.isArray(v)) {
      for (const x of v) {
        if (x !== null && typeof x === 'object') {
          values.push(x);
          depths.push(d + 1);
        } else if (d + 1 > max) max = d + 1;
      }
    } else if (v !== null && typeof v === 'object') {
      for (const k in v) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== null && typeof x === 'object') {
          values.push(x);
          depths.push(d + 1);
        } else if (d + 1 > max) max = d + 1;
      }
    }
  }
  return max;
}

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j] as number;
      prev[j] = Math.min(
        (prev[j] as number) + 1,
        (prev[j - 1] as number) + 1,
        diag + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      diag = tmp;
    }
  }
  return prev[b.length] as number;
}

/** The closest known name when it is close enough to be a typo. */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const limit = Math.max(2, Math.floor(name.length / 3));
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return bestD <= limit ? best : undefined;
}

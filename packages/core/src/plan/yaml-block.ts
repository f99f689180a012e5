/**
 * The fastest reader of plans: block-style YAML as planners write it (nested `key: value`
 * mappings and `- item` sequences, quoted or plain one-line scalars, one-line flow lists of
 * scalars, comments), read line by line with one regular expression per line. It reads about
 * four times faster than js-yaml when a process reads one plan, mostly because it allocates
 * little. It reads a strict subset of YAML and reads it exactly as the `yaml` library does (YAML
 * 1.2 core schema); anything outside the subset (block scalars, anchors, tags, flow mappings,
 * multi-line scalars, duplicate keys, tabs, ...) makes it give up, and the caller falls back to
 * the general readers. The property test in plan-fast-path.test.ts compares it with `yaml`.
 */

/** The YAML 1.2 core schema's plain scalars that are not strings, as `yaml` resolves them. */
export const CORE_SCALARS: readonly {
  tag: string;
  test: RegExp;
  construct: (s: string) => unknown;
}[] = [
  { tag: 'null', test: /^(?:~|[Nn]ull|NULL)?$/, construct: () => null },
  {
    tag: 'bool',
    test: /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/,
    construct: (s) => s[0] === 't' || s[0] === 'T',
  },
  {
    tag: 'int',
    test: /^(?:0o[0-7]+|[-+]?[0-9]+|0x[0-9a-fA-F]+)$/,
    construct: (s) =>
      s.startsWith('0o')
        ? parseInt(s.slice(2), 8)
        : s.startsWith('0x')
          ? parseInt(s.slice(2), 16)
          : (s[0] === '-' ? -1 : 1) * parseInt(s.replace(/^[-+]/, ''), 10),
  },
  {
    tag: 'float',
    test: /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*))$/,
    construct: (s) =>
      s.slice(-3).toLowerCase() === 'nan'
        ? NaN
        : s.slice(-3).toLowerCase() === 'inf'
          ? s[0] === '-'
            ? -Infinity
            : Infinity
          : parseFloat(s),
  },
];

/** Only these may start a scalar that is not a string: a plain scalar starting otherwise is text. */
const MAYBE_TYPED = /^[-+.0-9~nNtTfF]/;

/** A plain scalar's value under the core schema. */
function plainValue(s: string): unknown {
  if (s === '' || MAYBE_TYPED.test(s)) {
    for (const { test, construct } of CORE_SCALARS) if (test.test(s)) return construct(s);
  }
  return s;
}

/** Thrown inside the reader when the text leaves the subset; never escapes it. */
const GIVE_UP = Symbol('give up');

/**
 * One line, read from where it starts: its indentation, a sequence dash (with the spaces after
 * it), a plain key with its colon, and the rest. Keys are the identifiers plans use, except
 * those YAML reads as other types and `__proto__`; YAML's other keys leave the subset.
 */
const LINE =
  /( *)(- +|-(?=\n|$))?(?:((?!(?:true|True|TRUE|false|False|FALSE|null|Null|NULL|__proto__):)[A-Za-z_][A-Za-z0-9_-]*):(?: +|(?=\n|$)))?([^\n]*)/y;
/** Characters that the reader leaves to the general readers wherever they appear. */
const UNSUPPORTED = /[\t\r\v\f\u007F-\u009F\u2028\u2029\uD800-\uDFFF\uFEFF\uFFFE\uFFFF]/;

/** A double-quoted scalar in JSON's syntax (which means the same in YAML), then the line's end or a comment. */
const DOUBLE =
  // eslint-disable-next-line no-control-regex -- JSON strings hold no raw control characters
  /^"((?:[^"\\\u0000-\u001F]|\\["\\/bfnrt]|\\u(?![dD][89abAB])(?![dD][c-fC-F])[0-9a-fA-F]{4})*)"( +#.*| *)$/;
/** A single-quoted scalar, then the line's end or a comment. */
const SINGLE = /^'((?:[^']|'')*)'( +#.*| *)$/;
/**
 * A plain scalar in block context: not starting with an indicator, no `: ` or ` #` inside, not
 * ending with `:`; an optional comment after it.
 */
const PLAIN = /^((?![-?:,[\]{}#&*!|>'"%@` ])(?:[^:#]|:(?! |$)|(?<! )#)*?) *(?: #.*)?$/;
/** An item of a one-line flow list: a quoted scalar or a plain one without flow indicators, `:` or `#`. */
const FLOW_ITEM =
  // eslint-disable-next-line no-control-regex -- JSON strings hold no raw control characters
  / *(?:"((?:[^"\\\u0000-\u001F]|\\["\\/bfnrt]|\\u(?![dD][89abAB])(?![dD][c-fC-F])[0-9a-fA-F]{4})*)"|'((?:[^']|'')*)'|((?![-?:,[\]{}#&*!|>'"%@` ])[^,[\]{}:#"']*?)) *(,|\])/y;

/** Control characters, which a double-quoted scalar may only hold escaped. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this detects
const CONTROL = /[\u0000-\u001F]/;
/** A one-line flow list of plain words (`[a, b-c, d.e]`), the common case, read without FLOW_ITEM. */
const FLOW_WORDS = /^\[\w[\w.-]*(?:, *\w[\w.-]*)*\]$/;

/**
 * The value of a scalar or one-line flow text (`rest` of a line, not empty). `controls` says
 * whether the text holds control characters (other than line ends) at all.
 */
function scalar(rest: string, controls: boolean): unknown {
  const c = rest[0];
  if (c === '"') {
    // The common case without the regex: the line ends at the closing quote, nothing escaped.
    const end = rest.indexOf('"', 1);
    if (end === rest.length - 1) {
      const body = rest.slice(1, end);
      if (!body.includes('\\') && !(controls && CONTROL.test(body))) return body;
    }
    const m = DOUBLE.exec(rest);
    if (!m) throw GIVE_UP;
    const body = m[1] as string;
    return body.includes('\\') ? (JSON.parse(`"${body}"`) as string) : body;
  }
  if (c === "'") {
    const m = SINGLE.exec(rest);
    if (!m) throw GIVE_UP;
    return (m[1] as string).replaceAll("''", "'");
  }
  if (c === '[') {
    if (FLOW_WORDS.test(rest)) return rest.slice(1, -1).split(/, */).map(plainValue);
    return flowList(rest);
  }
  if (c === '{') {
    if (/^\{ *\}( +#.*| *)$/.test(rest)) return {};
    throw GIVE_UP;
  }
  const m = PLAIN.exec(rest);
  if (!m) throw GIVE_UP;
  return plainValue(m[1] as string);
}

/** `[a, "b", 'c']`: scalars only, no empty item, then the line's end or a comment. */
function flowList(rest: string): unknown[] {
  const out: unknown[] = [];
  if (/^\[ *\]( +#.*| *)$/.test(rest)) return out;
  FLOW_ITEM.lastIndex = 1;
  for (;;) {
    const at = FLOW_ITEM.lastIndex;
    const m = FLOW_ITEM.exec(rest);
    if (!m || m.index !== at) throw GIVE_UP;
    if (m[1] !== undefined) out.push(m[1].includes('\\') ? JSON.parse(`"${m[1]}"`) : m[1]);
    else if (m[2] !== undefined) out.push(m[2].replaceAll("''", "'"));
    else {
      const plain = m[3] as string;
      if (plain === '') throw GIVE_UP;
      out.push(plainValue(plain));
    }
    if (m[4] === ']') break;
  }
  if (!/^( +#.*| *)$/.test(rest.slice(FLOW_ITEM.lastIndex))) throw GIVE_UP;
  return out;
}

/**
 * The reader: one pass over the significant lines, holding only the current one (its
 * indentation, dash, key column, key and rest), so a big plan allocates little besides its data.
 */
class Reader {
  private pos = 0;
  /** The current line; `indent` is -1 at the end of the text. */
  indent = -1;
  dash = false;
  keyCol = 0;
  key: string | undefined;
  rest = '';

  /** Whether the text holds control characters other than line ends (rare: then scalars are checked). */
  readonly controls: boolean;

  constructor(
    readonly text: string,
    readonly maxDepth: number,
  ) {
    // eslint-disable-next-line no-control-regex -- control characters are exactly what this detects
    this.controls = /[\u0000-\u0009\u000B-\u001F]/.test(text);
  }

  /** Moves to the next significant line; false when a line leaves the subset. */
  advance(): boolean {
    const text = this.text;
    while (this.pos <= text.length) {
      LINE.lastIndex = this.pos;
      const m = LINE.exec(text) as RegExpExecArray;
      this.pos = m.index + m[0].length + 1;
      const d = m[2];
      const k = m[3];
      const r = m[4] as string;
      if (d === undefined && k === undefined) {
        // Blank and comment lines carry nothing; any other line without a key or dash leaves the subset.
        if (r === '' || r[0] === '#') continue;
        return false;
      }
      const indent = (m[1] as string).length;
      this.indent = indent;
      this.dash = d !== undefined;
      this.keyCol = d === undefined ? indent : indent + d.length;
      this.key = k;
      // `key: # note` is an empty value; a comment right after a dash is too.
      this.rest = r[0] === '#' ? '' : r;
      return true;
    }
    this.indent = -1;
    return true;
  }

  next(): void {
    if (!this.advance()) throw GIVE_UP;
  }

  /** The node whose first line is the current one, at indentation `col`. */
  node(col: number, depth: number): unknown {
    // Two levels of margin: a flow list inside adds one.
    if (depth > this.maxDepth - 2) throw GIVE_UP;
    return this.dash ? this.sequence(col, depth) : this.mapping(col, depth);
  }

  /** The value of an entry whose line ended after its key or dash (at indentation `col`). */
  nested(col: number, depth: number, compact: boolean): unknown {
    const indent = this.indent;
    if (indent < col) return null;
    if (indent > col) return this.node(indent, depth + 1);
    // A list may sit at the indentation of its key; nothing else may.
    return compact && this.dash ? this.sequence(col, depth + 1) : null;
  }

  mapping(col: number, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (this.indent >= col) {
      if (this.indent > col) throw GIVE_UP;
      // A sequence at the mapping's indentation ends it: it is the last key's value (compact).
      if (this.dash) break;
      const k = this.key as string;
      // An inherited name (`constructor`) gives up too: plans do not use them.
      if (out[k] !== undefined) throw GIVE_UP;
      const r = this.rest;
      this.next();
      out[k] = r === '' ? this.nested(col, depth, true) : scalar(r, this.controls);
    }
    return out;
  }

  sequence(col: number, depth: number): unknown[] {
    const out: unknown[] = [];
    while (this.indent >= col) {
      if (this.indent > col) throw GIVE_UP;
      if (!this.dash) break;
      if (this.key !== undefined) {
        // `- key: value` opens a mapping at the key's column: the line is that mapping's first.
        this.indent = this.keyCol;
        this.dash = false;
        out.push(this.mapping(this.keyCol, depth + 1));
      } else {
        const r = this.rest;
        this.next();
        out.push(r === '' ? this.nested(col, depth, false) : scalar(r, this.controls));
      }
    }
    return out;
  }
}

/**
 * Reads `text` when it is within the subset; undefined otherwise (and for a document that is
 * empty or one scalar). `maxDepth` bounds the nesting (deeper documents are left to the
 * general readers, which refuse them).
 */
export function readYamlBlock(text: string, maxDepth: number): { data: unknown } | undefined {
  if (UNSUPPORTED.test(text)) return undefined;
  const reader = new Reader(text, maxDepth);
  try {
    if (!reader.advance() || reader.indent < 0) return undefined;
    const data = reader.node(reader.indent, 1);
    return reader.indent < 0 ? { data } : undefined;
  } catch {
    // GIVE_UP, or a scalar JSON cannot decode after all: the general readers decide.
    return undefined;
  }
}

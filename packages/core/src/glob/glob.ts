/**
 * Glob helpers for ownership lists. Matching uses picomatch with `dot: true` (a task that owns
 * `src/**` owns `src/.env` too). `globsOverlap` decides whether two patterns can match one path; it
 * is exact for literals, `*`, `?` and `**`, and errs towards "yes" for classes and extglobs, because a
 * missed conflict costs a broken merge while an extra one only costs a `depends_on` edge.
 */
import picomatch from 'picomatch';

const GLOB_CHARS = /[*?[\]{}]|[@!+]\(/;

/** Whether `p` contains glob syntax (as opposed to naming one file). */
export function isGlob(p: string): boolean {
  return GLOB_CHARS.test(p);
}

const matchers = new Map<string, (path: string) => boolean>();

/** The compiled picomatch matcher of a glob (`dot: true`), compiled once per pattern. */
export function globMatcher(pattern: string): (path: string) => boolean {
  let m = matchers.get(pattern);
  if (!m) {
    m = picomatch(pattern, { dot: true });
    matchers.set(pattern, m);
  }
  return m;
}

/** Whether `path` is matched by `pattern` (a glob or an exact path). */
export function globMatch(pattern: string, path: string): boolean {
  if (!isGlob(pattern)) return pattern === path;
  return globMatcher(pattern)(path);
}

/** The leading segments of a pattern that contain no glob syntax: `src/api/**` → `['src', 'api']`. */
export function literalPrefix(pattern: string): string[] {
  const out: string[] = [];
  for (const seg of pattern.split('/')) {
    if (isGlob(seg)) break;
    out.push(seg);
  }
  // An exact path is its own prefix; a glob's last literal segment may still be a directory.
  return out;
}

/** Where a pattern's literal head ends: a glob character, an escape or an extglob. */
const HEAD_END = /[*?[\]{}\\]|[@!+]\(/;

/**
 * The literal text a pattern starts with: everything before its first glob character or escape,
 * without the slash that ends it (`src/comp/Bu*.tsx` → `src/comp/Bu`, `src/**` → `src`, which it
 * matches too); an exact path is its own head. Every path the pattern matches starts with it, so
 * two patterns can only meet when one head starts the other.
 */
export function literalHead(pattern: string): string {
  // `search` gives the index without building a match (plans have tens of thousands of patterns).
  const at = pattern.search(HEAD_END);
  if (at < 0) return pattern;
  return pattern.slice(0, pattern[at - 1] === '/' ? at - 1 : at);
}

/** Characters after which a pattern's text is no longer literal, seen from its end (extglob parentheses too). */
const TAIL_SPECIAL = '*?[]{}()|\\';

/**
 * The literal text a glob ends with: everything after its last glob character, without the slash
 * that starts it (for `src/*.test.ts` that is `.test.ts`; for `**` then `/x/a.ts` it is `x/a.ts`,
 * since `**` may match nothing); empty when the glob ends in a glob character. An exact path is its
 * own tail. Every path the pattern matches ends with it, so two patterns can only meet when one
 * tail ends the other.
 */
export function literalTail(pattern: string): string {
  if (!isGlob(pattern)) return pattern;
  let i = pattern.length;
  while (i > 0 && !TAIL_SPECIAL.includes(pattern[i - 1] as string)) i--;
  return pattern.slice(pattern[i] === '/' ? i + 1 : i);
}

/** Whether one of two literal heads starts the other (every path both patterns match starts with both). */
function headsMeet(a: string, b: string): boolean {
  return a.length <= b.length ? b.startsWith(a) : a.startsWith(b);
}

/** Whether one of two literal tails ends the other. */
function tailsMeet(a: string, b: string): boolean {
  return a.length <= b.length ? b.endsWith(a) : a.endsWith(b);
}

const MAX_BRACE_EXPANSIONS = 64;

/** Expands `{a,b}` groups; undefined when there would be too many variants. */
function expandBraces(p: string): string[] | undefined {
  const open = p.indexOf('{');
  if (open < 0) return [p];
  let depth = 0;
  let close = -1;
  const commas: number[] = [];
  for (let i = open; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) {
        close = i;
        break;
      }
    } else if (c === ',' && depth === 1) commas.push(i);
  }
  if (close < 0 || commas.length === 0) {
    // `{a}` or an unclosed brace is literal text for picomatch; keep it, expand the rest.
    const rest = close < 0 ? undefined : expandBraces(p.slice(close + 1));
    return rest?.map((r) => p.slice(0, close + 1) + r) ?? [p];
  }
  const head = p.slice(0, open);
  const tail = p.slice(close + 1);
  const bounds = [open, ...commas, close];
  const out: string[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const alt = p.slice((bounds[k] as number) + 1, bounds[k + 1]);
    const expanded = expandBraces(head + alt + tail);
    if (!expanded) return undefined;
    out.push(...expanded);
    if (out.length > MAX_BRACE_EXPANSIONS) return undefined;
  }
  return out;
}

type Tok = { star: true } | { star: false; ch: string | undefined };

/** One path segment as tokens: `*` any run, `?`/classes any one char (ch undefined), literals. */
function tokenize(seg: string): Tok[] {
  const out: Tok[] = [];
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i] as string;
    if (c === '*') {
      if (out.at(-1)?.star !== true) out.push({ star: true });
    } else if (c === '?') out.push({ star: false, ch: undefined });
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) out.push({ star: false, ch: c });
      else {
        out.push({ star: false, ch: undefined });
        i = end;
      }
    } else if ((c === '@' || c === '!' || c === '+') && seg[i + 1] === '(') {
      // Extglob: treat as "anything" (conservative).
      const end = seg.indexOf(')', i + 2);
      if (out.at(-1)?.star !== true) out.push({ star: true });
      i = end < 0 ? seg.length : end;
    } else if (c === '\\' && i + 1 < seg.length) {
      out.push({ star: false, ch: seg[++i] });
    } else out.push({ star: false, ch: c });
  }
  return out;
}

/**
 * Can one sequence be matched by both `a` and `b`? Each item is a star (any run of items, possibly
 * none) or a single item that `compatible` compares. A memoized DP over positions, used at both
 * levels: characters within a segment (`*`) and segments within a path (`**`).
 */
function sequencesOverlap<T>(
  a: readonly T[],
  b: readonly T[],
  isStar: (t: T) => boolean,
  compatible: (x: T, y: T) => boolean,
): boolean {
  const seen = new Set<number>();
  const w = b.length + 1;
  const f = (i: number, j: number): boolean => {
    if (i === a.length && j === b.length) return true;
    const key = i * w + j;
    if (seen.has(key)) return false;
    seen.add(key);
    const inA = i < a.length;
    const inB = j < b.length;
    const starA = inA && isStar(a[i] as T);
    const starB = inB && isStar(b[j] as T);
    if (starA && (f(i + 1, j) || (inB && !starB && f(i, j + 1)))) return true;
    if (starB && (f(i, j + 1) || (inA && !starA && f(i + 1, j)))) return true;
    if (inA && inB && !starA && !starB && compatible(a[i] as T, b[j] as T) && f(i + 1, j + 1)) return true;
    return false;
  };
  return f(0, 0);
}

const tokenIsStar = (t: Tok): boolean => t.star;
const tokensCompatible = (x: Tok, y: Tok): boolean =>
  !x.star && !y.star && (x.ch === undefined || y.ch === undefined || x.ch === y.ch);

/** A path segment for the overlap DP: `**` (undefined) or the segment's tokens. */
type Seg = Tok[] | undefined;
const segIsStar = (s: Seg): boolean => s === undefined;
const segsCompatible = (x: Seg, y: Seg): boolean =>
  sequencesOverlap(x as Tok[], y as Tok[], tokenIsStar, tokensCompatible);

function segmentsOverlap(a: string[], b: string[]): boolean {
  const tok = (s: string): Seg => (s === '**' ? undefined : tokenize(s));
  return sequencesOverlap<Seg>(a.map(tok), b.map(tok), segIsStar, segsCompatible);
}

/** Whether one path could be matched by both patterns (either may be an exact path). */
export function globsOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  const ga = isGlob(a);
  const gb = isGlob(b);
  if (!ga && !gb) return false;
  if (!ga) return globMatch(b, a);
  if (!gb) return globMatch(a, b);
  // Every path both match starts with both heads and ends with both tails; the conflict index
  // relies on this, and it decides most pairs before the DP (and when braces are too many to expand).
  if (!headsMeet(literalHead(a), literalHead(b)) || !tailsMeet(literalTail(a), literalTail(b))) return false;
  const ea = expandBraces(a) ?? ['**'];
  const eb = expandBraces(b) ?? ['**'];
  for (const x of ea) {
    for (const y of eb) {
      if (segmentsOverlap(x.split('/'), y.split('/'))) return true;
    }
  }
  return false;
}

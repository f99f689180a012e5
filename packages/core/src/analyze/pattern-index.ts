/**
 * Which distinct ownership patterns may match a common path, found without comparing every
 * pattern with every other. Every path a pattern matches starts with its literal head and ends
 * with its literal tail (`literalHead`, `literalTail`), so two patterns can only meet when one
 * head starts the other and one tail ends the other; `globsOverlap` checks both first, so the
 * pairs left out here are pairs it would refuse. Exact paths are two sorted lists (by text and by
 * reversed text); globs are swept in order of their heads, each head's globs indexed by tail, so
 * a glob is only compared with the globs and paths it can meet: sibling globs under one folder
 * and prefix-less globs that differ in their ending (`**` then `/*.a.ts`, `/*.b.ts`) cost nothing.
 */
import { isGlob, literalHead, literalTail } from '../glob/glob.js';

export interface Keyed {
  readonly pattern: string;
}

interface Node<G> {
  readonly group: G;
  readonly head: string;
  readonly tail: string;
  /** Its place among the globs of its head. */
  rank: number;
}

/** Up to this many globs of one head are scanned; more are indexed by tail. */
const SCAN = 8;

const reverse = (s: string): string => [...s].reverse().join('');

/** Whether one of two literal tails ends the other. */
const tailsMeet = (a: string, b: string): boolean => (a.length <= b.length ? b.endsWith(a) : a.endsWith(b));

/** The index of the first string in sorted `xs` that is not below `key`. */
function lowerBound(xs: readonly string[], key: string): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((xs[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How many strings of sorted `xs` from index `from` start with `prefix` (they are contiguous). */
function runLength(xs: readonly string[], from: number, prefix: string): number {
  let lo = from;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((xs[mid] as string).startsWith(prefix)) lo = mid + 1;
    else hi = mid;
  }
  return lo - from;
}

/** The globs of one head, found by tail: those whose tail ends a given one, and those it ends. */
class TailIndex<G> {
  private byTail: Map<string, Node<G>[]> | undefined;
  /** Distinct tails, reversed and sorted. */
  private reversed: string[] = [];

  constructor(readonly nodes: readonly Node<G>[]) {}

  /** Calls `visit` for each glob of this head whose tail meets `tail`. */
  meeting(tail: string, visit: (n: Node<G>) => void): void {
    if (this.nodes.length <= SCAN) {
      for (const n of this.nodes) if (tailsMeet(n.tail, tail)) visit(n);
      return;
    }
    const byTail = this.build();
    // Tails that end `tail` (itself included): its suffixes.
    for (let k = 0; k <= tail.length; k++) {
      const list = byTail.get(k === 0 ? tail : tail.slice(k));
      if (list) for (const n of list) visit(n);
    }
    // Tails that `tail` ends, longer than it: reversed, they start with its reverse.
    const rev = reverse(tail);
    const from = lowerBound(this.reversed, rev);
    const count = runLength(this.reversed, from, rev);
    for (let i = from; i < from + count; i++) {
      const r = this.reversed[i] as string;
      if (r.length === rev.length) continue;
      for (const n of byTail.get(reverse(r)) as Node<G>[]) visit(n);
    }
  }

  private build(): Map<string, Node<G>[]> {
    if (this.byTail) return this.byTail;
    const byTail = new Map<string, Node<G>[]>();
    for (const n of this.nodes) {
      const list = byTail.get(n.tail);
      if (list) list.push(n);
      else byTail.set(n.tail, [n]);
    }
    this.reversed = [...byTail.keys()].map(reverse).sort();
    return (this.byTail = byTail);
  }
}

/**
 * Calls `meet` once for every pair of distinct patterns (one a glob) whose heads and tails meet;
 * `groups` maps each pattern to its group. Pairs of exact paths never meet: equal paths are one
 * group.
 */
export function forEachCandidatePair<G extends Keyed>(
  groups: ReadonlyMap<string, G>,
  meet: (a: G, b: G) => void,
): void {
  const texts: string[] = [];
  const byHead = new Map<string, Node<G>[]>();
  for (const group of groups.values()) {
    const pattern = group.pattern;
    if (!isGlob(pattern)) {
      texts.push(pattern);
      continue;
    }
    const n: Node<G> = { group, head: literalHead(pattern), tail: literalTail(pattern), rank: 0 };
    const list = byHead.get(n.head);
    if (list) list.push(n);
    else byHead.set(n.head, [n]);
  }
  if (byHead.size === 0) return;
  // The default sort is by UTF-16 code units, the order of `<`, without a comparator to call.
  texts.sort();
  const exactOf = (text: string): G => groups.get(text) as G;
  let reversedText: string[] | undefined;

  // One sweep over the heads in sorted order. Glob against exact path: the paths that start with
  // the head follow the first path not below it (which only moves forward as the heads grow);
  // when those are many and the tail says more, the paths that end with the tail, checked for
  // the other end. Glob against glob: the heads that start the current one are exactly those on
  // a stack (everything between a string and its extension extends it too).
  const stack: { head: string; index: TailIndex<G> }[] = [];
  let first = 0;
  for (const head of [...byHead.keys()].sort()) {
    const nodes = byHead.get(head) as Node<G>[];
    while (first < texts.length && (texts[first] as string) < head) first++;
    const hCount =
      first < texts.length && (texts[first] as string).startsWith(head) ? runLength(texts, first, head) : 0;
    for (const n of nodes) {
      if (hCount === 0) break;
      const { group, tail } = n;
      if (hCount > SCAN && tail !== '') {
        reversedText ??= texts.map(reverse).sort();
        const rTail = reverse(tail);
        const tFrom = lowerBound(reversedText, rTail);
        const tCount = runLength(reversedText, tFrom, rTail);
        if (tCount < hCount) {
          for (let i = tFrom; i < tFrom + tCount; i++) {
            const text = reverse(reversedText[i] as string);
            if (text.startsWith(head)) meet(group, exactOf(text));
          }
          continue;
        }
      }
      for (let i = first; i < first + hCount; i++) {
        const text = texts[i] as string;
        if (text.endsWith(tail)) meet(group, exactOf(text));
      }
    }

    while (stack.length > 0 && !head.startsWith((stack[stack.length - 1] as { head: string }).head))
      stack.pop();
    for (let i = 0; i < nodes.length; i++) (nodes[i] as Node<G>).rank = i;
    const same = new TailIndex(nodes);
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i] as Node<G>;
      // Within one head each pair once: with the globs listed before this one.
      if (i > 0)
        same.meeting(n.tail, (o) => {
          if (o.rank < i) meet(n.group, o.group);
        });
      for (const outer of stack) outer.index.meeting(n.tail, (o) => meet(n.group, o.group));
    }
    stack.push({ head, index: same });
  }
}

/**
 * Conflicts between tasks that may run at the same time: two writers of one file (write/write),
 * a reader and a writer (read/write), and the same for resources (explicit, or implied by patch
 * intents as in the seed). Glob-aware, judged pair by pair (only a dependency path between the
 * two tasks orders them), never between a task and itself.
 *
 * Speed: entries are grouped by pattern and mode (a path that every task reads costs nothing),
 * and patterns are indexed by their literal head, so a glob is only compared with exact paths that
 * start with its head (a range in a sorted list) and with globs whose heads nest with its own;
 * nothing compares every path with every other.
 */
import type { Plan, Task } from '../plan/schema.js';
import { globsOverlap, isGlob, literalHead } from '../glob/glob.js';
import { findCycle } from './dag.js';

export type ConflictType = 'file_write_write' | 'file_read_write' | 'resource' | 'resource_read_write';

export interface Conflict {
  type: ConflictType;
  target: string;
  tasks: string[];
  detail: string;
  suggestion: string;
}

export interface ConflictReport {
  conflicts: Conflict[];
  count: number;
}

type Mode = 'write' | 'append' | 'read';
interface Entry {
  task: number;
  pattern: string;
  mode: Mode;
}

/** Resources a task's patch intents imply (the seed's mapping). */
export function impliedResources(task: Task): string[] {
  const out: string[] = [];
  for (const pi of task.patch_intents) {
    const field = (k: string): unknown => pi.intent[k] ?? (pi as Record<string, unknown>)[k];
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
    switch (pi.action) {
      case 'add_router':
        out.push(`route:${str(field('prefix')) ?? '/'}`);
        break;
      case 'add_dependency': {
        const f = str(field('function_name'));
        if (f) out.push(`di:${f}`);
        break;
      }
      case 'add_config': {
        const k = str(field('key'));
        if (k) out.push(`config:${k}`);
        break;
      }
      case 'add_middleware': {
        const m = str(field('middleware_class'));
        if (m) out.push(`middleware:${m}`);
        break;
      }
    }
  }
  return out;
}

/** The entries of one distinct pattern, split by mode so that pairs that never conflict are skipped. */
interface Group {
  pattern: string;
  /** The literal text every path the pattern matches starts with (the pattern itself when exact). */
  head: string;
  write: Entry[];
  append: Entry[];
  read: Entry[];
}

/** Shared by every group that has no entry of a mode (most groups have one entry in all). */
const NONE: Entry[] = [];

/**
 * Visits the entry pairs of two groups (or of one group with itself) that could conflict: a
 * write with anything, an append with a read. Read/read and append/append pairs are never
 * formed, so a path that a thousand tasks read costs nothing.
 */
function crossGroups(p: Group, q: Group, visit: (a: Entry, b: Entry) => void): void {
  const cross = (xs: Entry[], ys: Entry[]): void => {
    for (const x of xs) for (const y of ys) if (x.task !== y.task) visit(x, y);
  };
  if (p === q) {
    const w = p.write;
    if (w.length + p.append.length + p.read.length < 2) return;
    for (let i = 0; i < w.length; i++) {
      for (let j = i + 1; j < w.length; j++) {
        const a = w[i] as Entry;
        const b = w[j] as Entry;
        if (a.task !== b.task) visit(a, b);
      }
    }
    cross(w, p.append);
    cross(w, p.read);
    cross(p.append, p.read);
    return;
  }
  cross(p.write, q.write);
  cross(p.write, q.append);
  cross(p.write, q.read);
  cross(p.append, q.write);
  cross(p.append, q.read);
  cross(p.read, q.write);
  cross(p.read, q.append);
}

/** Whether the two groups can form any pair worth a glob comparison. */
function canConflict(p: Group, q: Group): boolean {
  return (
    (p.write.length > 0 && q.write.length + q.append.length + q.read.length > 0) ||
    (q.write.length > 0 && p.append.length + p.read.length > 0) ||
    (p.append.length > 0 && q.read.length > 0) ||
    (p.read.length > 0 && q.append.length > 0)
  );
}

/**
 * Calls `visit` for every pair of entries of different tasks whose patterns can meet and whose
 * modes can conflict. Entries are grouped by distinct pattern first, so a pattern shared by many
 * tasks is compared once. A glob is compared only with exact paths that start with its literal
 * head (a range of a sorted list) and with globs whose heads start its own or extend it.
 */
function forEachOverlap(entries: Entry[], visit: (a: Entry, b: Entry) => void): void {
  const groups = new Map<string, Group>();
  for (const e of entries) {
    let g = groups.get(e.pattern);
    if (!g) {
      const head = isGlob(e.pattern) ? literalHead(e.pattern) : e.pattern;
      groups.set(e.pattern, (g = { pattern: e.pattern, head, write: NONE, append: NONE, read: NONE }));
    }
    if (g[e.mode] === NONE) g[e.mode] = [e];
    else g[e.mode].push(e);
  }
  const exact = new Map<string, Group>();
  const globs: Group[] = [];
  for (const g of groups.values()) {
    // Same pattern: they meet.
    crossGroups(g, g, visit);
    if (g.head !== g.pattern) globs.push(g);
    else exact.set(g.pattern, g);
  }
  if (globs.length === 0) return;
  const meet = (g: Group, o: Group): void => {
    if (canConflict(g, o) && globsOverlap(g.pattern, o.pattern)) crossGroups(g, o, visit);
  };
  // glob vs exact: the exact paths that start with the glob's head, found by binary search.
  const sorted = [...exact.keys()].sort();
  for (const g of globs) {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((sorted[mid] as string) < g.head) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < sorted.length && (sorted[i] as string).startsWith(g.head); i++)
      meet(g, exact.get(sorted[i] as string) as Group);
  }
  // glob vs glob: only when one head starts the other. In sorted order the heads that start a
  // head are exactly those on a stack kept while sweeping (everything between a string and its
  // extension extends it too).
  const byHead = new Map<string, Group[]>();
  for (const g of globs) {
    const list = byHead.get(g.head);
    if (list) list.push(g);
    else byHead.set(g.head, [g]);
  }
  const stack: Group[][] = [];
  for (const head of [...byHead.keys()].sort()) {
    const same = byHead.get(head) as Group[];
    while (stack.length > 0 && !head.startsWith((stack[stack.length - 1] as Group[])[0]?.head as string))
      stack.pop();
    for (let i = 0; i < same.length; i++) {
      const g = same[i] as Group;
      for (let j = i + 1; j < same.length; j++) meet(g, same[j] as Group);
      for (const outer of stack) for (const o of outer) meet(g, o);
    }
    stack.push(same);
  }
}

/** Whether two tasks are ordered (a dependency path either way). Bitsets of ancestors, built lazily. */
function orderOracle(plan: Plan): (a: number, b: number) => boolean {
  const n = plan.tasks.length;
  const index = new Map(plan.tasks.map((t, i) => [t.id, i]));
  const deps = plan.tasks.map((t) =>
    [...new Set(t.depends_on)].flatMap((d) => (index.has(d) ? [index.get(d) as number] : [])),
  );
  let anc: Uint32Array[] | undefined;
  const words = (n + 31) >>> 5;
  const build = (): Uint32Array[] => {
    const out: Uint32Array[] = new Array<Uint32Array>(n);
    const done = new Uint8Array(n);
    for (let root = 0; root < n; root++) {
      if (done[root]) continue;
      const stack: number[] = [root];
      while (stack.length > 0) {
        const v = stack[stack.length - 1] as number;
        const pending = (deps[v] as number[]).filter((d) => !done[d]);
        if (pending.length > 0) {
          stack.push(...pending);
          continue;
        }
        stack.pop();
        if (done[v]) continue;
        const bits = new Uint32Array(words);
        for (const d of deps[v] as number[]) {
          const db = out[d] as Uint32Array;
          for (let w = 0; w < words; w++) bits[w] = (bits[w] as number) | (db[w] as number);
          bits[d >>> 5] = (bits[d >>> 5] as number) | (1 << (d & 31));
        }
        out[v] = bits;
        done[v] = 1;
      }
    }
    return out;
  };
  const has = (bits: Uint32Array, i: number): boolean => (((bits[i >>> 5] as number) >>> (i & 31)) & 1) === 1;
  // Most overlapping pairs are a task and its direct dependency: answer those without the
  // graph-wide work below.
  const direct = (a: number, b: number): boolean =>
    (deps[a] as number[]).includes(b) || (deps[b] as number[]).includes(a);
  let transitive: ((a: number, b: number) => boolean) | undefined;
  return (a, b) => direct(a, b) || (transitive ??= transitiveOracle())(a, b);

  function transitiveOracle(): (a: number, b: number) => boolean {
    if (findCycle(plan)) {
      // Cyclic plans are reported by the DAG check; here a plain search per question is enough.
      const reach = (from: number, to: number): boolean => {
        const seen = new Uint8Array(n);
        const stack = [from];
        while (stack.length > 0) {
          const v = stack.pop() as number;
          for (const d of deps[v] as number[]) {
            if (d === to) return true;
            if (!seen[d]) {
              seen[d] = 1;
              stack.push(d);
            }
          }
        }
        return false;
      };
      return (a, b) => reach(a, b) || reach(b, a);
    }
    return (a, b) => {
      anc ??= build();
      return has(anc[a] as Uint32Array, b) || has(anc[b] as Uint32Array, a);
    };
  }
}

/** Finds every conflict between tasks that are not ordered by their dependencies. */
export function detectConflicts(plan: Plan): ConflictReport {
  const ordered = orderOracle(plan);
  const found = new Map<string, Conflict>();
  const ids = plan.tasks.map((t) => t.id);

  const run = (entries: Entry[], kind: 'file' | 'resource'): void => {
    forEachOverlap(entries, (x, y) => {
      if (x.mode === 'read' && y.mode === 'read') return;
      if (x.mode === 'append' && y.mode === 'append') return; // appends by several tasks are allowed
      if (ordered(x.task, y.task)) return;
      const rw = x.mode === 'read' || y.mode === 'read';
      const [first, second] = rw ? (x.mode === 'read' ? [x, y] : [y, x]) : x.task < y.task ? [x, y] : [y, x];
      const target =
        x.pattern === y.pattern
          ? x.pattern
          : !isGlob(x.pattern)
            ? x.pattern
            : !isGlob(y.pattern)
              ? y.pattern
              : `${first.pattern} & ${second.pattern}`;
      const a = ids[first.task] as string;
      const b = ids[second.task] as string;
      const verb = (e: Entry): string =>
        e.mode === 'read' ? 'reads' : e.mode === 'append' ? 'appends to' : 'writes';
      const type: ConflictType =
        kind === 'file'
          ? rw
            ? 'file_read_write'
            : 'file_write_write'
          : rw
            ? 'resource_read_write'
            : 'resource';
      // read/write: the reader waits for the writer; write/write: the later task in the plan waits.
      const [waiter, waitee] = rw ? [a, b] : [b, a];
      const conflict: Conflict = {
        type,
        target,
        tasks: [a, b],
        detail: `${a} ${verb(first)} ${first.pattern} while ${b} ${verb(second)} ${second.pattern}, and neither depends on the other`,
        suggestion: `Add dependency: ${waiter} depends_on [${waitee}]`,
      };
      const pairKey = `${kind}|${[a, b].sort().join('|')}|${target}`;
      const prev = found.get(pairKey);
      // One conflict per pair and target; write/write says more than read/write.
      if (!prev || (prev.type.includes('read') && !type.includes('read'))) found.set(pairKey, conflict);
    });
  };

  const files: Entry[] = [];
  const resources: Entry[] = [];
  plan.tasks.forEach((t, task) => {
    const writes = new Set(t.files_write);
    for (const p of writes) files.push({ task, pattern: p, mode: 'write' });
    for (const p of t.files_append) if (!writes.has(p)) files.push({ task, pattern: p, mode: 'append' });
    for (const p of t.files_read)
      if (!writes.has(p) && !t.files_append.includes(p)) files.push({ task, pattern: p, mode: 'read' });
    const rw = new Set([...t.resources_write, ...impliedResources(t)]);
    for (const r of rw) resources.push({ task, pattern: r, mode: 'write' });
    for (const r of t.resources_read) if (!rw.has(r)) resources.push({ task, pattern: r, mode: 'read' });
  });
  run(files, 'file');
  run(resources, 'resource');

  const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  const conflicts = [...found.values()].sort(
    (p, q) => cmp(p.type, q.type) || cmp(p.target, q.target) || cmp(p.tasks.join(), q.tasks.join()),
  );
  return { conflicts, count: conflicts.length };
}

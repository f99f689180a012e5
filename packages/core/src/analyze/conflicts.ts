/**
 * Conflicts between tasks that may run at the same time: two writers of one file (write/write),
 * a reader and a writer (read/write), and the same for resources (explicit, or implied by patch
 * intents as in the seed). Glob-aware, judged pair by pair (only a dependency path between the
 * two tasks orders them), never between a task and itself.
 *
 * Speed: patterns are indexed by their literal prefix, so a glob is only compared with exact paths
 * under its prefix (a range in a sorted list) and with globs whose prefixes nest with its own;
 * nothing compares every path with every other.
 */
import type { Plan, Task } from '../plan/schema.js';
import { globsOverlap, isGlob, literalPrefix } from '../glob/glob.js';
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

/** Calls `visit` once for every pair of entries of different tasks whose patterns can meet. */
function forEachOverlap(entries: Entry[], visit: (a: Entry, b: Entry) => void): void {
  const exact = new Map<string, Entry[]>();
  const globs: { entry: Entry; prefix: string }[] = [];
  for (const e of entries) {
    if (isGlob(e.pattern)) globs.push({ entry: e, prefix: literalPrefix(e.pattern).join('/') });
    else {
      let list = exact.get(e.pattern);
      if (!list) exact.set(e.pattern, (list = []));
      list.push(e);
    }
  }
  const pairs = (xs: Entry[], ys: Entry[]): void => {
    for (const x of xs) for (const y of ys) if (x.task !== y.task) visit(x, y);
  };
  // exact vs exact: only equal strings meet.
  for (const list of exact.values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i] as Entry;
        const b = list[j] as Entry;
        if (a.task !== b.task) visit(a, b);
      }
    }
  }
  if (globs.length === 0) return;
  // glob vs exact: exact paths equal to the prefix or under it, found by binary search.
  const sorted = [...exact.keys()].sort();
  const lowerBound = (s: string): number => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((sorted[mid] as string) < s) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (const g of globs) {
    if (g.prefix === '') {
      for (const p of sorted) if (globsOverlap(g.entry.pattern, p)) pairs([g.entry], exact.get(p) as Entry[]);
      continue;
    }
    const self = exact.get(g.prefix);
    if (self && globsOverlap(g.entry.pattern, g.prefix)) pairs([g.entry], self);
    const under = `${g.prefix}/`;
    for (let i = lowerBound(under); i < sorted.length && (sorted[i] as string).startsWith(under); i++) {
      const p = sorted[i] as string;
      if (globsOverlap(g.entry.pattern, p)) pairs([g.entry], exact.get(p) as Entry[]);
    }
  }
  // glob vs glob: only when one literal prefix is a (segment) prefix of the other.
  const byPrefix = new Map<string, number[]>();
  globs.forEach((g, i) => {
    let list = byPrefix.get(g.prefix);
    if (!list) byPrefix.set(g.prefix, (list = []));
    list.push(i);
  });
  globs.forEach((g, i) => {
    const segs = g.prefix === '' ? [] : g.prefix.split('/');
    for (let k = 0; k <= segs.length; k++) {
      const anc = segs.slice(0, k).join('/');
      for (const j of byPrefix.get(anc) ?? []) {
        // Same prefix: visit each pair once. Shorter prefix: always (the other side never walks down).
        if (anc === g.prefix && j <= i) continue;
        const o = globs[j] as { entry: Entry };
        if (o.entry.task !== g.entry.task && globsOverlap(g.entry.pattern, o.entry.pattern))
          visit(g.entry, o.entry);
      }
    }
  });
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

/**
 * Conflicts between tasks that may run at the same time: two writers of one file (write/write),
 * a reader and a writer (read/write), and the same for resources (explicit, or implied by patch
 * intents as in the seed). Glob-aware, judged pair by pair (only a dependency path between the
 * two tasks orders them), never between a task and itself.
 *
 * Speed: entries are grouped by pattern and mode (a path that every task reads costs nothing);
 * only patterns that can meet are compared (`pattern-index.ts`: by literal head and tail), and
 * within two patterns that meet only the unordered pairs of tasks are visited (`unordered.ts`:
 * ordered writers of one file are one chain). Nothing compares every entry with every other.
 */
import type { Plan, Task } from '../plan/schema.js';
import { globsOverlap, isGlob } from '../glob/glob.js';
import { taskOrder, type TaskOrder } from './order.js';
import { forEachCandidatePair } from './pattern-index.js';
import { unorderedAcross, unorderedWithin, type Chains } from './unordered.js';

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
export interface ConflictEntry {
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
  write: ConflictEntry[];
  append: ConflictEntry[];
  read: ConflictEntry[];
  /** The entries of a mode split into chains of ordered tasks, once needed. */
  chains?: Partial<Record<Mode, Chains<ConflictEntry>>>;
}

/** Shared by every group that has no entry of a mode (most groups have one entry in all). */
const NONE: ConflictEntry[] = [];

type Visit = (a: ConflictEntry, b: ConflictEntry) => void;

function chainsOf(g: Group, mode: Mode, order: TaskOrder): Chains<ConflictEntry> {
  const list = g[mode];
  if (list.length === 1) return [list];
  g.chains ??= {};
  return (g.chains[mode] ??= unorderedWithin(list, order));
}

/** The unordered pairs of an entry of `g` in mode `gm` and one of `o` in mode `om`. */
function across(g: Group, gm: Mode, o: Group, om: Mode, order: TaskOrder, visit: Visit): void {
  const xs = g[gm];
  const ys = o[om];
  if (xs.length === 0 || ys.length === 0) return;
  if (xs.length === 1 && ys.length === 1) {
    // Most patterns have one entry: answer directly.
    const x = xs[0] as ConflictEntry;
    const y = ys[0] as ConflictEntry;
    if (!order.before(x.task, y.task) && !order.before(y.task, x.task)) visit(x, y);
    return;
  }
  const cx = chainsOf(g, gm, order);
  const cy = chainsOf(o, om, order);
  // Binary searches along the side with fewer chains.
  if (ys.length * cx.length <= xs.length * cy.length) unorderedAcross(cx, ys, order, visit);
  else unorderedAcross(cy, xs, order, visit);
}

/**
 * Visits the unordered entry pairs of one group that could conflict: a write with anything, an
 * append with a read. Read/read and append/append pairs are never formed, so a path that a
 * thousand tasks read costs nothing.
 */
function withinGroup(g: Group, order: TaskOrder, visit: Visit): void {
  if (g.write.length > 1) (g.chains ??= {}).write = unorderedWithin(g.write, order, visit);
  across(g, 'write', g, 'append', order, visit);
  across(g, 'write', g, 'read', order, visit);
  across(g, 'append', g, 'read', order, visit);
}

/** The same for two groups whose patterns meet. */
function betweenGroups(p: Group, q: Group, order: TaskOrder, visit: Visit): void {
  across(p, 'write', q, 'write', order, visit);
  across(p, 'write', q, 'append', order, visit);
  across(p, 'write', q, 'read', order, visit);
  across(p, 'append', q, 'write', order, visit);
  across(p, 'append', q, 'read', order, visit);
  across(p, 'read', q, 'write', order, visit);
  across(p, 'read', q, 'append', order, visit);
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

/** Calls `visit` for every pair of entries of unordered tasks whose patterns meet and whose modes conflict. */
function forEachUnorderedOverlap(entries: ConflictEntry[], order: TaskOrder, visit: Visit): void {
  const groups = new Map<string, Group>();
  for (const e of entries) {
    let g = groups.get(e.pattern);
    if (!g) groups.set(e.pattern, (g = { pattern: e.pattern, write: NONE, append: NONE, read: NONE }));
    if (g[e.mode] === NONE) g[e.mode] = [e];
    else g[e.mode].push(e);
  }
  for (const g of groups.values()) {
    // Most patterns have one entry: no pair within them.
    if (g.write.length + g.append.length + g.read.length > 1) withinGroup(g, order, visit);
  }
  forEachCandidatePair(groups, (g, o) => {
    if (canConflict(g, o) && globsOverlap(g.pattern, o.pattern)) betweenGroups(g, o, order, visit);
  });
}

/** The entries of a plan's tasks: files and resources, each path once per task in its strongest mode. */
export function conflictEntries(plan: Plan): { files: ConflictEntry[]; resources: ConflictEntry[] } {
  const files: ConflictEntry[] = [];
  const resources: ConflictEntry[] = [];
  plan.tasks.forEach((t, task) => {
    // A task's lists are short (the plan's validation de-duplicated them): searched, no Set each.
    const writes = t.files_write;
    const appends = t.files_append;
    writes.forEach((p, i) => {
      if (writes.indexOf(p) === i) files.push({ task, pattern: p, mode: 'write' });
    });
    appends.forEach((p, i) => {
      if (appends.indexOf(p) === i && !writes.includes(p)) files.push({ task, pattern: p, mode: 'append' });
    });
    t.files_read.forEach((p, i, reads) => {
      if (reads.indexOf(p) === i && !writes.includes(p) && !appends.includes(p))
        files.push({ task, pattern: p, mode: 'read' });
    });
    if (t.resources_write.length + t.resources_read.length + t.patch_intents.length === 0) return;
    const rw = new Set([...t.resources_write, ...impliedResources(t)]);
    for (const r of rw) resources.push({ task, pattern: r, mode: 'write' });
    for (const r of t.resources_read) if (!rw.has(r)) resources.push({ task, pattern: r, mode: 'read' });
  });
  return { files, resources };
}

const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/**
 * Turns conflicting entry pairs (of unordered tasks, patterns that meet) into the report: one
 * conflict per pair of tasks and target; write/write says more than read/write, and between two
 * of the same kind the first detail in sort order is kept, so the report does not depend on the
 * order the pairs come in.
 */
export class ConflictCollector {
  private readonly found = new Map<string, Conflict>();
  private readonly ids: string[];

  constructor(plan: Plan) {
    this.ids = plan.tasks.map((t) => t.id);
  }

  add(x: ConflictEntry, y: ConflictEntry, kind: 'file' | 'resource'): void {
    if (x.mode === 'read' && y.mode === 'read') return;
    if (x.mode === 'append' && y.mode === 'append') return; // appends by several tasks are allowed
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
    const a = this.ids[first.task] as string;
    const b = this.ids[second.task] as string;
    const verb = (e: ConflictEntry): string =>
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
    const detail = `${a} ${verb(first)} ${first.pattern} while ${b} ${verb(second)} ${second.pattern}, and neither depends on the other`;
    const pairKey = `${kind}|${[a, b].sort().join('|')}|${target}`;
    const prev = this.found.get(pairKey);
    if (prev) {
      const prevRw = prev.type.includes('read');
      if (prevRw === rw ? detail >= prev.detail : rw) return;
    }
    this.found.set(pairKey, {
      type,
      target,
      tasks: [a, b],
      detail,
      suggestion: `Add dependency: ${waiter} depends_on [${waitee}]`,
    });
  }

  report(): ConflictReport {
    const conflicts = [...this.found.values()].sort(
      (p, q) => cmp(p.type, q.type) || cmp(p.target, q.target) || cmp(p.tasks.join(), q.tasks.join()),
    );
    return { conflicts, count: conflicts.length };
  }
}

/** Finds every conflict between tasks that are not ordered by their dependencies. */
export function detectConflicts(plan: Plan): ConflictReport {
  const order = taskOrder(plan);
  const collector = new ConflictCollector(plan);
  const { files, resources } = conflictEntries(plan);
  forEachUnorderedOverlap(files, order, (x, y) => collector.add(x, y, 'file'));
  forEachUnorderedOverlap(resources, order, (x, y) => collector.add(x, y, 'resource'));
  return collector.report();
}

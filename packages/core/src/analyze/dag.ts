/**
 * The dependency graph of a plan: unknown ids, cycles (as a path), execution waves (sorted, so
 * the output is deterministic), the critical path, and the remaining path length of every task
 * (the scheduler starts the longest first). Everything is iterative: a 10,000-task chain must not
 * overflow the stack.
 */
import type { Plan } from '../plan/schema.js';
import { formatIssues, type PathKey, type SourceDoc, type SourceIssue } from '../plan/source.js';

export interface DagReport {
  valid: boolean;
  /** One line per problem; `file:line:col: ` first when the plan's source was given. */
  errors: string[];
  /** The same problems with their place in the plan (path, and line/column with a source). */
  issues: SourceIssue[];
  cycle?: string[];
  waves: string[][];
  total_waves: number;
  total_tasks: number;
  critical_path: string[];
  critical_path_length: number;
}

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The graph by task number, built once per analysis: ids (one node per distinct id; the last
 * task with an id defines its dependencies), dependencies de-duplicated with unknown ids dropped,
 * and the reverse edges.
 */
interface Graph {
  ids: string[];
  deps: number[][];
  dependents: number[][];
}

function graphOf(plan: Plan): Graph {
  const index = new Map<string, number>();
  const ids: string[] = [];
  for (const t of plan.tasks) {
    if (!index.has(t.id)) {
      index.set(t.id, ids.length);
      ids.push(t.id);
    }
  }
  const deps: number[][] = ids.map(() => []);
  for (const t of plan.tasks) {
    const out: number[] = [];
    for (const d of t.depends_on) {
      const j = index.get(d);
      if (j !== undefined && !out.includes(j)) out.push(j);
    }
    deps[index.get(t.id) as number] = out;
  }
  const dependents: number[][] = ids.map(() => []);
  deps.forEach((ds, i) => {
    for (const d of ds) (dependents[d] as number[]).push(i);
  });
  return { ids, deps, dependents };
}

function cycleOf(g: Graph): string[] | undefined {
  const state = new Uint8Array(g.ids.length); // 1 on the stack, 2 done
  for (let root = 0; root < g.ids.length; root++) {
    if (state[root]) continue;
    const stack: { v: number; next: number }[] = [{ v: root, next: 0 }];
    state[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { v: number; next: number };
      const ds = g.deps[top.v] as number[];
      if (top.next >= ds.length) {
        state[top.v] = 2;
        stack.pop();
        continue;
      }
      const d = ds[top.next++] as number;
      if (state[d] === 1) {
        const from = stack.findIndex((f) => f.v === d);
        return [...stack.slice(from).map((f) => g.ids[f.v] as string), g.ids[d] as string];
      }
      if (state[d] === 0) {
        state[d] = 1;
        stack.push({ v: d, next: 0 });
      }
    }
  }
  return undefined;
}

/** The first cycle found, in plan order, as `a → b → … → a` where `a → b` means a depends on b. */
export function findCycle(plan: Plan): string[] | undefined {
  return cycleOf(graphOf(plan));
}

/** Task ids in topological order (dependencies first), or undefined when there is a cycle. */
export function topologicalOrder(plan: Plan): string[] | undefined {
  return wavesOf(graphOf(plan))?.flat();
}

/** Waves of task numbers, each sorted by id; undefined when there is a cycle. */
function waveNumbers(g: Graph): number[][] | undefined {
  const indeg = Int32Array.from(g.deps, (ds) => ds.length);
  const sortById = (xs: number[]): number[] =>
    xs.sort((a, b) => byId(g.ids[a] as string, g.ids[b] as string));
  const waves: number[][] = [];
  let current: number[] = [];
  for (let v = 0; v < indeg.length; v++) if (indeg[v] === 0) current.push(v);
  let placed = 0;
  while (current.length > 0) {
    waves.push(sortById(current));
    placed += current.length;
    const next: number[] = [];
    for (const v of current) {
      for (const w of g.dependents[v] as number[]) if (--(indeg[w] as number) === 0) next.push(w);
    }
    current = next;
  }
  return placed === g.ids.length ? waves : undefined;
}

function wavesOf(g: Graph): string[][] | undefined {
  return waveNumbers(g)?.map((w) => w.map((v) => g.ids[v] as string));
}

/** Remaining path length by task number (see remainingPathLengths); empty on a cycle. */
function remainingOf(g: Graph, order: number[] | undefined): Int32Array {
  if (!order) return new Int32Array(0);
  const rem = new Int32Array(g.ids.length).fill(1);
  for (let i = order.length - 1; i >= 0; i--) {
    const v = order[i] as number;
    const len = rem[v] as number;
    for (const d of g.deps[v] as number[]) if ((rem[d] as number) < len + 1) rem[d] = len + 1;
  }
  return rem;
}

/**
 * For each task, the number of tasks on the longest chain from it to the end of the graph,
 * counting itself (a task nothing depends on has 1). Empty on a cyclic plan.
 */
export function remainingPathLengths(plan: Plan): Map<string, number> {
  const g = graphOf(plan);
  const order = waveNumbers(g)?.flat();
  const rem = remainingOf(g, order);
  const out = new Map<string, number>();
  for (const v of order ?? []) out.set(g.ids[v] as string, rem[v] as number);
  return out;
}

/** The longest chain, starting from the task with the longest remaining path (ties: smallest id). */
function criticalPath(g: Graph, rem: Int32Array): string[] {
  if (rem.length === 0) return [];
  const best = (vs: Iterable<number>, want?: number): number | undefined => {
    let pick: number | undefined;
    for (const v of vs) {
      const r = rem[v] as number;
      if (want !== undefined && r !== want) continue;
      const pr = pick === undefined ? -1 : (rem[pick] as number);
      if (r > pr || (r === pr && (g.ids[v] as string) < (g.ids[pick as number] as string))) pick = v;
    }
    return pick;
  };
  const path: string[] = [];
  let cur = best(rem.keys());
  while (cur !== undefined) {
    path.push(g.ids[cur] as string);
    cur = best(g.dependents[cur] as number[], (rem[cur] as number) - 1);
  }
  return path;
}

/**
 * Validates the dependency graph and computes waves and the critical path. With the plan's source
 * document, each problem carries its `file:line:col` like a schema error.
 */
export function analyzeDag(plan: Plan, doc?: SourceDoc): DagReport {
  const ids = plan.tasks.map((t) => t.id);
  const known = new Set(ids);
  const issues: SourceIssue[] = [];
  const errors: string[] = [];
  const report = (path: PathKey[], message: string): void => {
    const issue = doc ? doc.issue(path, message) : { path: '', message };
    issues.push(issue);
    errors.push(
      doc && issue.line !== undefined
        ? `${formatIssues(doc.source, [{ ...issue, path: '(document)' }])}`
        : message,
    );
  };
  let knownList: string | undefined;
  plan.tasks.forEach((t, i) => {
    const deps = t.depends_on;
    // Each id once; a Set only for a long list (most tasks have a few dependencies).
    const seen = deps.length > 16 ? new Set<string>() : undefined;
    deps.forEach((d, j) => {
      if (seen ? seen.has(d) : deps.indexOf(d) < j) return;
      seen?.add(d);
      if (!known.has(d)) {
        knownList ??= `[${[...known].map((k) => `'${k}'`).join(', ')}]`;
        report(
          ['tasks', i, 'depends_on', t.depends_on.indexOf(d)],
          `Task '${t.id}' depends on '${d}' which does not exist. Known task IDs: ${knownList}`,
        );
      }
    });
  });
  const empty = {
    waves: [],
    total_waves: 0,
    total_tasks: ids.length,
    critical_path: [],
    critical_path_length: 0,
  };
  if (errors.length > 0) return { valid: false, errors, issues, ...empty };
  const g = graphOf(plan);
  const cycle = cycleOf(g);
  if (cycle) {
    // Point at the first edge of the cycle: the depends_on entry of cycle[0] that names cycle[1].
    const from = plan.tasks.findLastIndex((t) => t.id === cycle[0]);
    const edge = plan.tasks[from]?.depends_on.indexOf(cycle[1] as string) ?? -1;
    report(
      edge >= 0 ? ['tasks', from, 'depends_on', edge] : ['tasks', from],
      `Circular dependency detected: ${cycle.join(' → ')}`,
    );
    return { valid: false, errors, issues, cycle, ...empty };
  }
  const numbers = waveNumbers(g) ?? [];
  const cp = criticalPath(g, remainingOf(g, numbers.flat()));
  const waves = numbers.map((w) => w.map((v) => g.ids[v] as string));
  return {
    valid: true,
    errors: [],
    issues: [],
    waves,
    total_waves: waves.length,
    total_tasks: ids.length,
    critical_path: cp,
    critical_path_length: cp.length,
  };
}

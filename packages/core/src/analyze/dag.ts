/**
 * The dependency graph of a plan: unknown ids, cycles (as a path), execution waves (sorted, so
 * the output is deterministic), the critical path, and the remaining path length of every task
 * (the scheduler starts the longest first). Everything is iterative: a 10,000-task chain must not
 * overflow the stack.
 */
import type { Plan } from '../plan/schema.js';

export interface DagReport {
  valid: boolean;
  errors: string[];
  cycle?: string[];
  waves: string[][];
  total_waves: number;
  total_tasks: number;
  critical_path: string[];
  critical_path_length: number;
}

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Dependencies of each task, de-duplicated, unknown ids dropped. */
function dependencyMap(plan: Plan): Map<string, string[]> {
  const ids = new Set(plan.tasks.map((t) => t.id));
  const deps = new Map<string, string[]>();
  for (const t of plan.tasks)
    deps.set(
      t.id,
      [...new Set(t.depends_on)].filter((d) => ids.has(d)),
    );
  return deps;
}

/** The first cycle found, in plan order, as `a → b → … → a` where `a → b` means a depends on b. */
export function findCycle(plan: Plan): string[] | undefined {
  const deps = dependencyMap(plan);
  const state = new Map<string, 1 | 2>(); // 1 on the stack, 2 done
  for (const root of deps.keys()) {
    if (state.has(root)) continue;
    const stack: { id: string; next: number }[] = [{ id: root, next: 0 }];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { id: string; next: number };
      const ds = deps.get(top.id) as string[];
      if (top.next >= ds.length) {
        state.set(top.id, 2);
        stack.pop();
        continue;
      }
      const d = ds[top.next++] as string;
      const s = state.get(d);
      if (s === 1) {
        const from = stack.findIndex((f) => f.id === d);
        return [...stack.slice(from).map((f) => f.id), d];
      }
      if (s === undefined) {
        state.set(d, 1);
        stack.push({ id: d, next: 0 });
      }
    }
  }
  return undefined;
}

/** Task ids in topological order (dependencies first), or undefined when there is a cycle. */
export function topologicalOrder(plan: Plan): string[] | undefined {
  return wavesOf(plan)?.flat();
}

function wavesOf(plan: Plan): string[][] | undefined {
  const deps = dependencyMap(plan);
  const dependents = new Map<string, string[]>();
  const indeg = new Map<string, number>();
  for (const [id, ds] of deps) {
    indeg.set(id, ds.length);
    for (const d of ds) {
      let list = dependents.get(d);
      if (!list) dependents.set(d, (list = []));
      list.push(id);
    }
  }
  const waves: string[][] = [];
  let current = [...indeg].filter(([, n]) => n === 0).map(([id]) => id);
  let placed = 0;
  while (current.length > 0) {
    current.sort(byId);
    waves.push(current);
    placed += current.length;
    const next: string[] = [];
    for (const id of current) {
      for (const dep of dependents.get(id) ?? []) {
        const n = (indeg.get(dep) as number) - 1;
        indeg.set(dep, n);
        if (n === 0) next.push(dep);
      }
    }
    current = next;
  }
  return placed === deps.size ? waves : undefined;
}

/**
 * For each task, the number of tasks on the longest chain from it to the end of the graph,
 * counting itself (a task nothing depends on has 1). Empty on a cyclic plan.
 */
export function remainingPathLengths(plan: Plan): Map<string, number> {
  const order = topologicalOrder(plan);
  const out = new Map<string, number>();
  if (!order) return out;
  const deps = dependencyMap(plan);
  for (const id of order) out.set(id, 1);
  for (let i = order.length - 1; i >= 0; i--) {
    const id = order[i] as string;
    const len = out.get(id) as number;
    for (const d of deps.get(id) as string[]) out.set(d, Math.max(out.get(d) as number, len + 1));
  }
  return out;
}

function criticalPath(plan: Plan, rem: Map<string, number>): string[] {
  if (rem.size === 0) return [];
  const dependents = new Map<string, string[]>();
  for (const t of plan.tasks) {
    for (const d of new Set(t.depends_on)) {
      let list = dependents.get(d);
      if (!list) dependents.set(d, (list = []));
      list.push(t.id);
    }
  }
  const best = (ids: Iterable<string>): string | undefined => {
    let pick: string | undefined;
    for (const id of ids) {
      const r = rem.get(id) ?? 0;
      const pr = pick === undefined ? -1 : (rem.get(pick) ?? 0);
      if (r > pr || (r === pr && pick !== undefined && id < pick)) pick = id;
    }
    return pick;
  };
  const path: string[] = [];
  let cur = best(rem.keys());
  while (cur !== undefined) {
    path.push(cur);
    const want = (rem.get(cur) as number) - 1;
    cur = best((dependents.get(cur) ?? []).filter((d) => rem.get(d) === want));
  }
  return path;
}

/** Validates the dependency graph and computes waves and the critical path. */
export function analyzeDag(plan: Plan): DagReport {
  const ids = plan.tasks.map((t) => t.id);
  const known = new Set(ids);
  const errors: string[] = [];
  const knownList = `[${[...known].map((k) => `'${k}'`).join(', ')}]`;
  for (const t of plan.tasks) {
    for (const d of new Set(t.depends_on)) {
      if (!known.has(d))
        errors.push(`Task '${t.id}' depends on '${d}' which does not exist. Known task IDs: ${knownList}`);
    }
  }
  const empty = {
    waves: [],
    total_waves: 0,
    total_tasks: ids.length,
    critical_path: [],
    critical_path_length: 0,
  };
  if (errors.length > 0) return { valid: false, errors, ...empty };
  const cycle = findCycle(plan);
  if (cycle) {
    return { valid: false, errors: [`Circular dependency detected: ${cycle.join(' → ')}`], cycle, ...empty };
  }
  const waves = wavesOf(plan) ?? [];
  const cp = criticalPath(plan, remainingPathLengths(plan));
  return {
    valid: true,
    errors: [],
    waves,
    total_waves: waves.length,
    total_tasks: ids.length,
    critical_path: cp,
    critical_path_length: cp.length,
  };
}

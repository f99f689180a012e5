/**
 * Which tasks a plan orders: `b` comes after `a` when `b` depends on `a`, directly or through other
 * tasks. Tasks on one dependency cycle (the DAG check reports it) are ordered both ways, so the
 * relation is a preorder on any plan and the conflict check needs no special case for cycles.
 */
import type { Plan } from '../plan/schema.js';

export interface TaskOrder {
  /**
   * A topological position per task (dependencies first; tasks on one cycle share it): when
   * `before(a, b)`, `position[a] <= position[b]`.
   */
  readonly position: Int32Array;
  /** Whether `b` is `a`, or depends on `a` directly or transitively (or shares a cycle with it). */
  before(a: number, b: number): boolean;
}

/**
 * The order of a plan's tasks (by index in `plan.tasks`). A dependency names the last task with
 * that id; unknown ids are ignored. Direct edges answer most questions; ancestor bitsets over the
 * strongly connected components are built on the first question they do not answer.
 */
export function taskOrder(plan: Plan): TaskOrder {
  const index = new Map<string, number>();
  plan.tasks.forEach((t, i) => index.set(t.id, i));
  const deps = plan.tasks.map((t) => {
    const out: number[] = [];
    for (const d of t.depends_on) {
      const j = index.get(d);
      if (j !== undefined && !out.includes(j)) out.push(j);
    }
    return out;
  });
  const comp = components(deps);
  let ancestors: Uint32Array[] | undefined;
  const before = (a: number, b: number): boolean => {
    if (a === b) return true;
    const ca = comp[a] as number;
    const cb = comp[b] as number;
    if (ca === cb) return true;
    if (ca > cb) return false; // a dependency always has the smaller component number
    if ((deps[b] as number[]).includes(a)) return true;
    ancestors ??= ancestorBits(deps, comp);
    return (((ancestors[cb] as Uint32Array)[ca >>> 5] as number) & (1 << (ca & 31))) !== 0;
  };
  return { position: comp, before };
}

/**
 * Strongly connected components of the graph `v → deps[v]` (Tarjan, iterative: a 10,000-task
 * chain must not overflow the stack), numbered in the order Tarjan closes them: every component a
 * task depends on is closed first, so the numbers are a topological order, dependencies first.
 */
function components(deps: number[][]): Int32Array {
  const n = deps.length;
  const comp = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const num = new Int32Array(n).fill(-1);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const frames: number[] = []; // pairs: vertex, next edge
  let counter = 0;
  let comps = 0;
  for (let root = 0; root < n; root++) {
    if (num[root] !== -1) continue;
    frames.push(root, 0);
    num[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (frames.length > 0) {
      const v = frames[frames.length - 2] as number;
      const e = frames[frames.length - 1] as number;
      const ds = deps[v] as number[];
      if (e < ds.length) {
        frames[frames.length - 1] = e + 1;
        const w = ds[e] as number;
        if (num[w] === -1) {
          num[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          frames.push(w, 0);
        } else if (onStack[w] && (num[w] as number) < (low[v] as number)) low[v] = num[w] as number;
        continue;
      }
      frames.length -= 2;
      if (frames.length > 0) {
        const parent = frames[frames.length - 2] as number;
        if ((low[v] as number) < (low[parent] as number)) low[parent] = low[v] as number;
      }
      if (low[v] === num[v]) {
        let w: number;
        do {
          w = stack.pop() as number;
          onStack[w] = 0;
          comp[w] = comps;
        } while (w !== v);
        comps++;
      }
    }
  }
  return comp;
}

/** For each component, the set of components it depends on (transitively), as a bitset. */
function ancestorBits(deps: number[][], comp: Int32Array): Uint32Array[] {
  const count = comp.reduce((m, c) => Math.max(m, c + 1), 0);
  const words = (count + 31) >>> 5;
  const members: number[][] = Array.from({ length: count }, () => []);
  comp.forEach((c, v) => (members[c] as number[]).push(v));
  const out: Uint32Array[] = new Array<Uint32Array>(count);
  // In component order every dependency's set is complete before it is needed.
  for (let c = 0; c < count; c++) {
    const bits = new Uint32Array(words);
    for (const v of members[c] as number[]) {
      for (const d of deps[v] as number[]) {
        const cd = comp[d] as number;
        if (cd === c) continue;
        const db = out[cd] as Uint32Array;
        for (let w = 0; w < words; w++) bits[w] = (bits[w] as number) | (db[w] as number);
        bits[cd >>> 5] = (bits[cd >>> 5] as number) | (1 << (cd & 31));
      }
    }
    out[c] = bits;
  }
  return out;
}

/**
 * The pairs of items whose tasks the plan does not order, found without comparing every item
 * with every other: the items are split into chains (each item's task is before the next one's),
 * and along a chain the items before a given task form a prefix and those after it a suffix, so
 * two binary searches per chain leave exactly the unordered ones. k ordered writers of one file
 * are one chain: k log k questions instead of k² pairs. The work grows with the items times the
 * number of chains, which stays small unless many of the tasks really are unordered (and then
 * the pairs are conflicts to report anyway).
 */
import type { TaskOrder } from './order.js';

export interface Item {
  readonly task: number;
}

/** Items split into chains, each in task order. */
export type Chains<T extends Item> = readonly (readonly T[])[];

function byPosition<T extends Item>(items: readonly T[], order: TaskOrder): T[] {
  return [...items].sort((x, y) => (order.position[x.task] as number) - (order.position[y.task] as number));
}

/** How many items at the start of `chain` have tasks before `task` (they form a prefix). */
function countBefore<T extends Item>(chain: readonly T[], task: number, order: TaskOrder): number {
  let lo = 0;
  let hi = chain.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (order.before((chain[mid] as T).task, task)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index from `from` whose item's task is after `task` (from there on, all are). */
function firstAfter<T extends Item>(
  chain: readonly T[],
  from: number,
  task: number,
  order: TaskOrder,
): number {
  let lo = from;
  let hi = chain.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (order.before(task, (chain[mid] as T).task)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Calls `visit` once for every pair of items of `items` whose tasks are unordered, and returns
 * the chains it built (first fit in topological order: an item joins the first chain whose last
 * task is before its own).
 */
export function unorderedWithin<T extends Item>(
  items: readonly T[],
  order: TaskOrder,
  visit?: (a: T, b: T) => void,
): Chains<T> {
  const chains: T[][] = [];
  for (const x of byPosition(items, order)) {
    let home: T[] | undefined;
    for (const chain of chains) {
      // Every item placed so far is no later than x in topological order, so none is after it
      // unless they share a cycle (then it is before x as well).
      const k = countBefore(chain, x.task, order);
      if (visit) for (let i = k; i < chain.length; i++) visit(chain[i] as T, x);
      if (k === chain.length && !home) home = chain;
    }
    if (home) home.push(x);
    else chains.push([x]);
  }
  return chains;
}

/** Calls `visit` for every pair of an item of `chains` and one of `items` whose tasks are unordered. */
export function unorderedAcross<T extends Item>(
  chains: Chains<T>,
  items: readonly T[],
  order: TaskOrder,
  visit: (a: T, b: T) => void,
): void {
  for (const y of items) {
    for (const chain of chains) {
      const from = countBefore(chain, y.task, order);
      const to = firstAfter(chain, from, y.task, order);
      for (let i = from; i < to; i++) visit(chain[i] as T, y);
    }
  }
}

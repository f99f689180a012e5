/**
 * Names orch keeps for itself. A task id becomes a ref directory (`orch/<run>/<task>/work`), a
 * worktree folder and a session name next to orch's own (`orch/<run>/staging`, archives, the
 * integration worktree, the supervisor's mail), so an id equal to one of those would let a
 * task's worker write onto what orch owns.
 */

/** Task ids a plan may not use; ids starting with `_` are reserved as well (pool, integration). */
export const RESERVED_TASK_IDS: readonly string[] = [
  'staging',
  'archive',
  'integration',
  'tasks',
  'work',
  'supervisor',
  'user',
  'all',
  'orch',
];

/** Whether `id` is one of orch's own names (case-insensitive: refs live on case-folding disks too). */
export function isReservedTaskId(id: string): boolean {
  const lower = id.toLowerCase();
  return lower.startsWith('_') || RESERVED_TASK_IDS.includes(lower);
}

/** The folders orch writes in the repository, which no task may own. */
export function reservedRepoDirs(worktreeDir = '.worktrees'): string[] {
  const wt = worktreeDir.replace(/\\/g, '/').replace(/^(\.\/)+|\/+$/g, '');
  return ['.orchestrator', ...(wt === '' || wt.startsWith('/') ? [] : [wt])];
}

/** The lower-cased first characters of each list of reserved folders, computed once per list. */
const firstChars = new WeakMap<readonly string[], Set<string | undefined>>();

/** The reserved folder a normalized repo path (or glob) lies in, or undefined. */
export function reservedDirOf(path: string, dirs: readonly string[]): string | undefined {
  // Most paths start with another character than every reserved folder: no lower-casing for them.
  let firsts = firstChars.get(dirs);
  if (!firsts) firstChars.set(dirs, (firsts = new Set(dirs.map((d) => d[0]?.toLowerCase()))));
  const first = path[0];
  if (!firsts.has(first) && !firsts.has(first?.toLowerCase())) return undefined;
  const p = path.toLowerCase();
  return dirs.find((d) => p === d.toLowerCase() || p.startsWith(`${d.toLowerCase()}/`));
}

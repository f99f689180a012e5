/**
 * The plan's cross-field rules (the zod schema checks shapes): ids, uniqueness, repo-relative
 * paths, dependencies, verification. Paths are normalized in place and de-duplicated so every
 * analyzer sees one spelling.
 */
import { TASK_ID_RE, type Plan } from './schema.js';
import { isNormalRepoPath, normalizeRepoPath } from '../glob/paths.js';
import { OrchError } from '../errors.js';
import { RESERVED_TASK_IDS, isReservedTaskId, reservedDirOf, reservedRepoDirs } from './reserved.js';
import type { SourceDoc, SourceIssue, PathKey } from './source.js';

export interface ValidateOptions {
  /**
   * Leave unknown `depends_on` ids to the DAG analyzer (which lists them with the known ids)
   * instead of failing the schema. `orch dag` and `orch plan check` use this.
   */
  allowUnknownDependencies?: boolean;
  /**
   * The configured worktree folder (`orchestration.worktree_dir`); with `.orchestrator` it is
   * refused in `files_write`/`files_append`. Default `.worktrees`.
   */
  worktreeDir?: string;
}

const FILE_FIELDS = ['files_write', 'files_read', 'files_append'] as const;
/** Fields whose paths a task writes: orch's own folders may not appear in them. */
const WRITE_FIELDS: ReadonlySet<string> = new Set(['files_write', 'files_append']);
const RESOURCE_FIELDS = ['resources_write', 'resources_read'] as const;

function listIds(ids: string[]): string {
  const shown = ids.slice(0, 20).join(', ');
  return ids.length > 20 ? `${shown}, … (${ids.length} in all)` : shown;
}

/**
 * Distinct strings in first-seen order. A plan has tens of thousands of short lists: those are
 * searched (no Set to allocate for each); long ones get a Set.
 */
function distinct(size: number): { list: string[]; add: (s: string) => void } {
  const list: string[] = [];
  if (size <= 16) return { list, add: (s) => void (list.includes(s) || list.push(s)) };
  const set = new Set<string>();
  return { list, add: (s) => void (set.has(s) || (set.add(s), list.push(s))) };
}

/** Whether a short list of paths needs no change: all normal, distinct, and outside `reserved`. */
function alreadyClean(list: readonly string[], reserved: readonly string[] | undefined): boolean {
  for (let j = 0; j < list.length; j++) {
    const p = list[j] as string;
    if (!isNormalRepoPath(p) || list.indexOf(p) !== j) return false;
    if (reserved !== undefined && reservedDirOf(p, reserved) !== undefined) return false;
  }
  return true;
}

export function validatePlan(plan: Plan, doc: SourceDoc, opts: ValidateOptions = {}): SourceIssue[] {
  const issues: SourceIssue[] = [];
  const at = (path: PathKey[], message: string): void => {
    issues.push(doc.issue(path, message));
  };
  // `path` is a function so that the common, valid case allocates nothing for it.
  const normalizeAt = (p: string, path: () => PathKey[]): string | undefined => {
    try {
      return normalizeRepoPath(p);
    } catch (e) {
      const problem = e instanceof OrchError ? String(e.details?.problem ?? e.message) : String(e);
      at(path(), `path ${JSON.stringify(p)} ${problem}`);
      return undefined;
    }
  };

  const firstIndex = new Map<string, number>();
  plan.tasks.forEach((t, i) => {
    if (!TASK_ID_RE.test(t.id)) {
      at(
        ['tasks', i, 'id'],
        `task id ${JSON.stringify(t.id)} is not allowed: ids are 1-63 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit (they become branch, session and folder names)`,
      );
    } else if (isReservedTaskId(t.id)) {
      at(
        ['tasks', i, 'id'],
        `task id ${JSON.stringify(t.id)} is reserved for orch's own refs and folders (reserved: ${RESERVED_TASK_IDS.join(', ')} and ids starting with '_'); rename the task`,
      );
    }
    const first = firstIndex.get(t.id);
    if (first !== undefined)
      at(['tasks', i, 'id'], `duplicate task id ${JSON.stringify(t.id)} (first used by tasks[${first}])`);
    else firstIndex.set(t.id, i);
  });
  const known = [...firstIndex.keys()];
  const reservedDirs = reservedRepoDirs(opts.worktreeDir);

  plan.tasks.forEach((t, i) => {
    for (const field of FILE_FIELDS) {
      const list = t[field];
      if (list.length === 0) continue;
      // The common case, judged without allocating: short, every path in normal form, none
      // repeated, none in orch's folders. The list stays as it is.
      if (list.length <= 16 && alreadyClean(list, WRITE_FIELDS.has(field) ? reservedDirs : undefined))
        continue;
      const seen = distinct(list.length);
      list.forEach((p, j) => {
        const n = normalizeAt(p, () => ['tasks', i, field, j]);
        if (n === undefined) return;
        const dir = WRITE_FIELDS.has(field) ? reservedDirOf(n, reservedDirs) : undefined;
        if (dir !== undefined) {
          at(
            ['tasks', i, field, j],
            `path ${JSON.stringify(p)} is inside ${dir}/, which orch owns (no task may write there; verification would always refuse it)`,
          );
        }
        seen.add(n);
      });
      // Paths are normalized here, once; the analyzers use these spellings as they are.
      t[field] = seen.list;
    }
    for (const field of RESOURCE_FIELDS) {
      const list = t[field];
      if (list.length === 0) continue;
      const seen = distinct(list.length);
      list.forEach((r, j) => {
        if (r.trim() === '') at(['tasks', i, field, j], 'resource names must not be empty');
        else seen.add(r.trim());
      });
      t[field] = seen.list;
    }
    t.patch_intents.forEach((pi, j) => {
      const n = normalizeAt(pi.file, () => ['tasks', i, 'patch_intents', j, 'file']);
      if (n !== undefined) pi.file = n;
    });
    // Searched while short, a Set for a long list (a final task may depend on every other one).
    const seenDeps = t.depends_on.length > 16 ? new Set<string>() : undefined;
    t.depends_on.forEach((d, j, deps) => {
      const path = (): PathKey[] => ['tasks', i, 'depends_on', j];
      const twice = seenDeps ? seenDeps.has(d) : deps.indexOf(d) < j;
      seenDeps?.add(d);
      if (d === t.id) at(path(), `task ${JSON.stringify(t.id)} depends on itself`);
      else if (twice) at(path(), `${JSON.stringify(d)} is listed twice`);
      else if (!firstIndex.has(d) && !opts.allowUnknownDependencies) {
        at(
          path(),
          `depends on ${JSON.stringify(d)}, which is not a task in this plan (known ids: ${listIds(known)})`,
        );
      }
    });
    if ((t.agent ?? plan.defaults.agent) === 'shell' && (t.run ?? '').trim() === '') {
      at(
        ['tasks', i],
        `task ${JSON.stringify(t.id)} uses the shell agent but has no run script: add \`run: <commands>\`, or choose another agent`,
      );
    }
    if (t.verification.length === 0) {
      at(
        ['tasks', i],
        `task ${JSON.stringify(t.id)} has no verification: add at least one entry with a command, e.g. verification: [{command: "npm test", type: test}]`,
      );
    }
    t.verification.forEach((v, j) => {
      if (v.command.trim() === '')
        at(['tasks', i, 'verification', j, 'command'], 'the command must not be empty');
    });
  });

  const contractNames = new Map<string, number>();
  plan.contracts.forEach((c, i) => {
    const n = normalizeAt(c.file_path, () => ['contracts', i, 'file_path']);
    if (n !== undefined) c.file_path = n;
    const first = contractNames.get(c.name);
    if (first !== undefined)
      at(
        ['contracts', i, 'name'],
        `duplicate contract name ${JSON.stringify(c.name)} (first at contracts[${first}])`,
      );
    else contractNames.set(c.name, i);
  });
  return issues;
}

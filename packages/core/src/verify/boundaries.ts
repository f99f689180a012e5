/**
 * The boundary check: every path a task changed (the net diff base..head with both sides of a
 * rename and deletions; with the `merge` strategy also every commit's own changes) must be one the
 * task owns, and none may be forbidden. Forbidden wins over ownership. Symlink violations come in
 * from `checkSymlinks` and fail the check too.
 */
import type { Task } from '../plan/schema.js';
import type { BoundaryCheck, PathViolation } from './report.js';
import { forbiddenRule } from './forbidden.js';
import { firstMatch, cleanPath } from '../glob/path-patterns.js';

export const UNAUTHORIZED_RULE = 'not in files_write or files_append';

export function checkBoundaries(input: {
  changed: readonly string[];
  task: Pick<Task, 'files_write' | 'files_append'>;
  forbiddenPatterns: readonly string[];
  depsApproved?: boolean;
  /** Violations of `checkSymlinks`, reported with the boundaries. */
  symlinks?: readonly PathViolation[];
}): BoundaryCheck {
  const changed = [...new Set(input.changed.map(cleanPath))].sort();
  const owned = [...input.task.files_write, ...input.task.files_append];
  const unauthorized: PathViolation[] = [];
  const forbidden: PathViolation[] = [];
  for (const path of changed) {
    const rule = forbiddenRule(path, input.forbiddenPatterns, { depsApproved: input.depsApproved ?? false });
    if (rule !== undefined) forbidden.push({ path, rule });
    else if (firstMatch(owned, path) === undefined) unauthorized.push({ path, rule: UNAUTHORIZED_RULE });
  }
  const symlinks = [...(input.symlinks ?? [])];
  const ok = unauthorized.length === 0 && forbidden.length === 0 && symlinks.length === 0;
  return { ok, changed, unauthorized, forbidden, symlinks };
}

/**
 * Paths no task may change, even when its plan lists them: repository internals, orch's own
 * directories, dependencies, build outputs, secrets, minified bundles, and lockfiles (unless the
 * task's dependency request was approved). Patterns have gitignore semantics (see
 * `glob/path-patterns.ts`).
 */
import type { Config } from '../config/schema.js';
import { isLockfile } from '../env/lockfiles.js';
import { cleanPath, matchesForbidden } from '../glob/path-patterns.js';

export const DEFAULT_FORBIDDEN_PATTERNS: readonly string[] = [
  '.git/',
  '.orchestrator/',
  '.worktrees/',
  'node_modules/',
  'dist/',
  'build/',
  '.env*',
  '*.min.js',
];

/** The rule name reported for a lockfile change without an approved dependency request. */
export const LOCKFILE_RULE = 'lockfile (no approved dependency request)';

/**
 * The forbidden patterns in effect: `verification.forbidden_patterns` replaces the defaults,
 * `extra_forbidden_patterns` adds to them.
 */
export function forbiddenPatterns(config: Pick<Config, 'verification'>): string[] {
  const v = config.verification;
  return [...(v.forbidden_patterns ?? DEFAULT_FORBIDDEN_PATTERNS), ...v.extra_forbidden_patterns];
}

/** The rule that forbids `path`, or undefined when it may be changed. */
export function forbiddenRule(
  path: string,
  patterns: readonly string[],
  opts: { depsApproved?: boolean } = {},
): string | undefined {
  const hit = patterns.find((pat) => matchesForbidden(pat, path));
  if (hit !== undefined) return hit;
  if (!opts.depsApproved && isLockfile(cleanPath(path))) return LOCKFILE_RULE;
  return undefined;
}

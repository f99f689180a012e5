/**
 * The three meanings of a path pattern in orch, in one place so that each is named where it is used:
 *
 * - **ownership** (`files_write` / `files_append` in a plan, normalized by `normalizeRepoPath`): the
 *   exact path or a glob over the whole repository-relative path (`globMatch`; conflicts between
 *   tasks use `globsOverlap`);
 * - **boundary** (what a task's change may touch, checked against what it owns): ownership's
 *   meaning on paths as written, plus a trailing slash for a whole directory and an exact match for
 *   names that contain glob characters (`app/[id]/page.tsx`);
 * - **forbidden** (`verification.forbidden_patterns`): gitignore semantics, through the `ignore`
 *   package: a pattern without a slash matches a name at any depth (`.env`), a trailing slash matches
 *   directories only (`build/`), and a slash elsewhere anchors it at the root (`secrets/*.key`).
 */
import ignore, { type Ignore } from 'ignore';
import { globMatcher } from './glob.js';

/** `./a//b/` → `a/b/`; backslashes become slashes so a Windows-written plan still matches. */
export function cleanPath(p: string): string {
  let s = p.replace(/\\/g, '/').replace(/\/{2,}/g, '/');
  while (s.startsWith('./')) s = s.slice(2);
  return s;
}

/**
 * Boundary meaning: whether `path` is covered by a files_write / files_append entry: the exact path
 * (so names with glob characters such as `app/[id]/page.tsx` still match themselves), a glob, or a
 * directory written with a trailing slash (`src/auth/` covers everything below it).
 */
export function pathMatches(pattern: string, path: string): boolean {
  const pat = cleanPath(pattern);
  const p = cleanPath(path);
  if (pat === p) return true;
  if (pat.endsWith('/')) return p.startsWith(pat);
  return globMatcher(pat)(p);
}

/** The first pattern that covers `path` (boundary meaning), or undefined. */
export function firstMatch(patterns: readonly string[], path: string): string | undefined {
  return patterns.find((pat) => pathMatches(pat, path));
}

const forbidden = new Map<string, Ignore>();

/** Forbidden meaning: whether the gitignore-style `pattern` catches the repository-relative `path`. */
export function matchesForbidden(pattern: string, path: string): boolean {
  const p = cleanPath(path);
  // A path `ignore` cannot judge (absolute, `..`) is no path of the repository: other checks refuse it.
  if (!ignore.isPathValid(p)) return false;
  let ig = forbidden.get(pattern);
  if (!ig) {
    ig = ignore().add(cleanPath(pattern));
    forbidden.set(pattern, ig);
  }
  return ig.ignores(p);
}

/** Path matching shared by the boundary and contract checks: repository-relative, forward slashes. */
import picomatch from 'picomatch';

/** `./a//b/` → `a/b/`; backslashes become slashes so a Windows-written plan still matches. */
export function cleanPath(p: string): string {
  let s = p.replace(/\\/g, '/').replace(/\/{2,}/g, '/');
  while (s.startsWith('./')) s = s.slice(2);
  return s;
}

const cache = new Map<string, (p: string) => boolean>();

/**
 * Whether `path` is covered by a files_write / files_append entry: the exact path (so names with
 * glob characters such as `app/[id]/page.tsx` still match themselves), a glob, or a directory
 * written with a trailing slash (`src/auth/` covers everything below it).
 */
export function pathMatches(pattern: string, path: string): boolean {
  const pat = cleanPath(pattern);
  const p = cleanPath(path);
  if (pat === p) return true;
  if (pat.endsWith('/')) return p.startsWith(pat);
  let m = cache.get(pat);
  if (!m) {
    m = picomatch(pat, { dot: true });
    cache.set(pat, m);
  }
  return m(p);
}

/** The first pattern that covers `path`, or undefined. */
export function firstMatch(patterns: readonly string[], path: string): string | undefined {
  return patterns.find((pat) => pathMatches(pat, path));
}

/**
 * Symlinks in a task's diff. A link is data git stores as a path, and anything that later follows
 * it (a verification command, a hook lookup, the user's editor after promotion) reads or writes
 * where it points: `/etc/passwd`, `~/.ssh`, `.git/hooks`. So links are refused unless the config
 * allows them, and even then only links that resolve inside the repository and outside git's and
 * orch's own folders pass.
 */
import { posix } from 'node:path';
import type { PathViolation } from './report.js';

export interface SymlinkChange {
  /** Repository-relative path of the link. */
  path: string;
  /** What the link says (its blob). */
  target: string;
}

/** Top-level folders no link may point into, whatever the config says. */
export const LINK_FORBIDDEN_ROOTS = ['.git', '.orchestrator'] as const;

export const SYMLINK_RULE = 'symlink (allowed only with verification.allow_symlinks)';

const MAX_HOPS = 40;

/**
 * Where `target`, written in a link at `path`, leads inside the repository: a normalized
 * repo-relative path, or undefined when it leaves the repository. Links met on the way (`others`,
 * the head's symlinks by path) are followed.
 */
export function resolveLinkTarget(
  path: string,
  target: string,
  others: ReadonlyMap<string, string> = new Map(),
): string | undefined {
  let current = resolveOnce(path, target);
  for (let hop = 0; current !== undefined && hop < MAX_HOPS; hop++) {
    const parts = current.split('/');
    let followed = false;
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      const next = others.get(prefix);
      if (next === undefined) continue;
      const via = resolveOnce(prefix, next);
      current = via === undefined ? undefined : posix.join(via, ...parts.slice(i));
      followed = true;
      break;
    }
    if (!followed) return current;
  }
  // A loop of links resolves nowhere: refused like a link out of the repository.
  return undefined;
}

function resolveOnce(path: string, target: string): string | undefined {
  if (target === '' || target.startsWith('/') || target.includes('\0') || /^[a-zA-Z]:/.test(target))
    return undefined;
  const joined = posix.normalize(posix.join(posix.dirname(path), target.replaceAll('\\', '/')));
  if (joined === '..' || joined.startsWith('../')) return undefined;
  return joined === '.' ? '' : joined.replace(/\/$/, '');
}

/** The violations of the symlinks a task's diff adds or changes (empty when all may stay). */
export function checkSymlinks(input: {
  links: readonly SymlinkChange[];
  allow: boolean;
  /** Every symlink at the head, by path, to follow chains of links. */
  headLinks?: ReadonlyMap<string, string>;
}): PathViolation[] {
  const out: PathViolation[] = [];
  for (const l of input.links) {
    if (!input.allow) {
      out.push({ path: l.path, rule: `${SYMLINK_RULE}, points to ${JSON.stringify(l.target)}` });
      continue;
    }
    const to = resolveLinkTarget(l.path, l.target, input.headLinks);
    if (to === undefined) {
      out.push({ path: l.path, rule: `symlink to ${JSON.stringify(l.target)} leads outside the repository` });
      continue;
    }
    const parts = to.split('/').map((p) => p.toLowerCase());
    const root = LINK_FORBIDDEN_ROOTS.find((r) => parts[0] === r || (r === '.git' && parts.includes(r)));
    if (root !== undefined || to === '')
      out.push({
        path: l.path,
        rule: `symlink to ${JSON.stringify(l.target)} points into ${root ?? 'the repository root'}`,
      });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

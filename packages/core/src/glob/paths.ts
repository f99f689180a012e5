/**
 * Repository-relative paths. Paths come from plans and agents, so they are untrusted: they are
 * normalized to one spelling and rejected when they could leave the repository or touch `.git/`.
 */
import { OrchError } from '../errors.js';

/** Why a path is not acceptable, or undefined when it is. */
export function repoPathProblem(p: string): string | undefined {
  if (p.trim() === '') return 'is empty';
  if (p.includes('\0')) return 'contains a NUL byte';
  if (p.startsWith('/') || p.startsWith('\\'))
    return 'is absolute (use a path relative to the repository root)';
  if (/^[A-Za-z]:/.test(p)) return 'is an absolute Windows path (use a path relative to the repository root)';
  if (p.startsWith('~')) return 'starts with ~ (use a path relative to the repository root)';
  if (p.startsWith('!')) return 'is a negated pattern, which ownership lists do not support';
  return undefined;
}

/** A segment that normalization keeps as it is: not empty, `.`, `..` or `.git` (any case). */
const SEGMENT = String.raw`(?!\.\.?(?:/|$)|\.[gG][iI][tT](?:/|$))[^/\0]+`;
/** A path already in normal form, with none of the problems `repoPathProblem` names. */
const NORMAL = new RegExp(String.raw`^(?!\s*$|[~!\\]|[A-Za-z]:)${SEGMENT}(?:/${SEGMENT})*$`);

/** Whether a path is already in normal form (what `normalizeRepoPath` returns unchanged, without a problem). */
export function isNormalRepoPath(p: string): boolean {
  return NORMAL.test(p);
}

/**
 * Normalizes a repo-relative path or glob: `./a//b/../c` → `a/c`; a trailing `/` means the whole
 * directory (`src/` → `src/**`). Throws ERR_ORCH_PATH_INVALID when the path is absolute, climbs
 * out of the repository with `..`, or points into a `.git` directory.
 */
export function normalizeRepoPath(p: string): string {
  // Most paths in a plan are already in normal form; one regex test confirms it.
  if (isNormalRepoPath(p)) return p;
  const problem = repoPathProblem(p);
  if (problem) throw pathError(p, problem);
  const out: string[] = [];
  const parts = p.split('/');
  const isDir = p.endsWith('/');
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw pathError(p, 'leaves the repository (too many `..`)');
      out.pop();
      continue;
    }
    out.push(part);
  }
  if (out.length === 0) throw pathError(p, 'names the repository root itself');
  if (out.some((s) => s.toLowerCase() === '.git'))
    throw pathError(p, 'points into .git/, which orch never lets a task touch');
  if (isDir && out[out.length - 1] !== '**') out.push('**');
  const normal = out.join('/');
  // `./!src/**` must not become the negated pattern `!src/**` (nor `./\x` an absolute path).
  const after = repoPathProblem(normal);
  if (after) throw pathError(p, after);
  return normal;
}

function pathError(p: string, problem: string): OrchError {
  return new OrchError('ERR_ORCH_PATH_INVALID', `path ${JSON.stringify(p)} ${problem}`, {
    hint: 'Paths in a plan are relative to the repository root, e.g. src/app.ts or src/api/**.',
    details: { path: p, problem },
  });
}

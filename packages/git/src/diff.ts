import type { Repo } from './repo.js';
import { splitNul } from './exec.js';

export type ChangeStatus = 'A' | 'M' | 'D' | 'R' | 'C' | 'T';

export interface ChangedPath {
  status: ChangeStatus;
  /** The path after the change (the new name of a rename or copy). */
  path: string;
  /** The source of a rename or copy. */
  oldPath?: string;
}

export interface ChangedPathsOptions {
  /** Also list what each commit of base..head changed, not only the net difference (default true). */
  perCommit?: boolean;
}

/**
 * Parses `--name-status -z` records (optionally preceded by `\x01<commit>` headers from `git log`):
 * `<status>\0<path>\0`, or `<R|C><score>\0<old>\0<new>\0`.
 */
function parseNameStatus(out: string, into: Map<string, ChangedPath>): void {
  const t = splitNul(out);
  for (let i = 0; i < t.length; i++) {
    let status = t[i]!;
    if (status.startsWith('\x01')) continue; // commit header
    if (status.startsWith('\n')) status = status.slice(1); // log puts a newline between header and list
    if (status === '') continue;
    const letter = status[0] as ChangeStatus | 'U' | 'X';
    let change: ChangedPath;
    if (letter === 'R' || letter === 'C') {
      change = { status: letter, oldPath: t[i + 1]!, path: t[i + 2]! };
      i += 2;
    } else {
      // U (unmerged) and X (unknown) do not occur between commits; count them as modifications.
      change = { status: letter === 'U' || letter === 'X' ? 'M' : letter, path: t[i + 1]! };
      i += 1;
    }
    into.set(`${change.status}\0${change.oldPath ?? ''}\0${change.path}`, change);
  }
}

/**
 * Every path changed over base..head: the net tree difference (which includes conflict resolutions in
 * merge commits) plus what each non-merge commit changed, so a file added in one commit and deleted
 * in a later one is still seen. Renames are detected and carry both paths. When the branch has
 * merged another branch in (e.g. staging), pass their merge-base as `base` so that branch's own
 * commits are not attributed to this one.
 */
export async function changedPaths(
  repo: Repo,
  base: string,
  head: string,
  opts: ChangedPathsOptions = {},
): Promise<ChangedPath[]> {
  const b = await repo.revParse(`${base}^{commit}`);
  const h = await repo.revParse(`${head}^{commit}`);
  const found = new Map<string, ChangedPath>();
  const common = ['-z', '--name-status', '-M', '--no-ext-diff', '--no-textconv', '--no-color'];
  const net = await repo.git(['diff-tree', '-r', ...common, b, h]);
  parseNameStatus(net.stdout, found);
  if (opts.perCommit !== false) {
    const log = await repo.git(['log', '--no-merges', '--format=%x01%H', ...common, `${b}..${h}`]);
    parseNameStatus(log.stdout, found);
  }
  return [...found.values()];
}

import type { Repo } from './repo.js';
import { splitNul } from './exec.js';

export type ChangeStatus = 'A' | 'M' | 'D' | 'R' | 'C' | 'T';

export interface ChangedPath {
  status: ChangeStatus;
  /** The path after the change (the new name of a rename or copy). */
  path: string;
  /** The source of a rename or copy. */
  oldPath?: string;
  /** The file mode after the change (`120000` a symlink, `000000` deleted). */
  mode: string;
  /** The blob after the change (all zeros when deleted). */
  object: string;
}

export interface ChangedPathsOptions {
  /**
   * Also list what each commit of base..head changed, merge commits included (their changes
   * against every parent at once, so content that only a merge adds is seen), not only the net
   * difference (default true).
   */
  perCommit?: boolean;
}

/**
 * Parses `--raw -z` records, optionally preceded by `\x01<commit>` headers from `git log`:
 * `:<old mode> <new mode> <old> <new> <status>\0<path>\0` (`<R|C><score>` with two paths), or for a
 * merge with n parents (`-c`) n colons, n+1 modes and objects, one status letter per parent, one path.
 */
function parseRaw(out: string, into: Map<string, ChangedPath>): void {
  const t = splitNul(out);
  for (let i = 0; i < t.length; i++) {
    let rec = t[i]!;
    if (rec.startsWith('\n')) rec = rec.slice(1); // log puts a newline between header and list
    if (!rec.startsWith(':')) continue; // a commit header or blank
    const colons = /^:+/.exec(rec)![0].length;
    const fields = rec.slice(colons).split(' ');
    const mode = fields[colons] ?? '';
    const object = fields[2 * colons + 1] ?? '';
    const status = fields[2 * (colons + 1)] ?? 'M';
    const letter = status[0] as ChangeStatus | 'U' | 'X';
    let change: ChangedPath;
    if (colons === 1 && (letter === 'R' || letter === 'C')) {
      change = { status: letter, oldPath: t[i + 1]!, path: t[i + 2]!, mode, object };
      i += 2;
    } else {
      // U (unmerged) and X (unknown) do not occur between commits; count them as modifications.
      change = { status: letter === 'U' || letter === 'X' ? 'M' : letter, path: t[i + 1]!, mode, object };
      i += 1;
    }
    into.set(`${change.status}\0${change.oldPath ?? ''}\0${change.path}\0${mode}\0${object}`, change);
  }
}

/**
 * Every path changed over base..head: the net tree difference, plus (unless `perCommit` is false)
 * what each commit changed, merge commits included, so a file added in one commit and deleted in a
 * later one is still seen. Renames are detected and carry both paths. When the branch has merged
 * another branch in (e.g. staging), pass their merge-base as `base` so that branch's own commits are
 * not attributed to this one.
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
  const common = ['-z', '--raw', '--no-abbrev', '-M', '--no-ext-diff', '--no-textconv', '--no-color'];
  const net = await repo.git(['diff-tree', '-r', ...common, b, h]);
  parseRaw(net.stdout, found);
  if (opts.perCommit !== false) {
    // `-c`: a merge commit lists the paths whose result differs from every parent (what the merge
    // itself introduced); a merge that only takes one side's content adds nothing new.
    const log = await repo.git(['log', '-c', '--format=%x01%H', ...common, `${b}..${h}`]);
    parseRaw(log.stdout, found);
  }
  return [...found.values()];
}

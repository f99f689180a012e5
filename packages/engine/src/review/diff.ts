/**
 * The cumulative diff a reviewer reads, bounded: each file gets a share so that one huge file (a
 * generated one, a fixture) cannot push every other change out of the prompt; whatever is cut is
 * named, so the reviewer knows to read it from the checkout.
 */
import type { Repository } from '../ports/repository.js';

export interface DiffLimits {
  /** Characters kept of one file's patch. */
  perFile: number;
  /** Characters kept in all. */
  total: number;
}

const MIN_SHOWN = 400;

export const DEFAULT_DIFF_LIMITS: DiffLimits = { perFile: 12_000, total: 80_000 };

export interface BoundedDiff {
  text: string;
  truncated: boolean;
  /** Files whose patch was cut short or left out. */
  cut: string[];
}

/** The path of a `diff --git a/x b/y` section (the new side). */
function pathOf(section: string): string {
  const nl = section.indexOf('\n');
  const header = nl < 0 ? section : section.slice(0, nl);
  return /^diff --git "?a\/.*?"? "?b\/(.*?)"?$/.exec(header)?.[1] ?? header;
}

/** Cuts a unified diff to the limits, file by file, in the diff's order. */
export function boundDiff(patch: string, limits: DiffLimits = DEFAULT_DIFF_LIMITS): BoundedDiff {
  const sections = patch.split(/^(?=diff --git )/m).filter((s) => s.trim() !== '');
  const out: string[] = [];
  const cut: string[] = [];
  let used = 0;
  for (const s of sections) {
    const room = Math.min(limits.perFile, limits.total - used);
    if (s.length <= room) {
      out.push(s);
      used += s.length;
      continue;
    }
    // Too little room left to show anything useful of this file: name it instead.
    if (room < MIN_SHOWN) {
      cut.push(pathOf(s));
      continue;
    }
    const end = s.lastIndexOf('\n', room);
    const kept = s.slice(0, end > 0 ? end + 1 : room);
    out.push(`${kept}[... ${s.length - kept.length} more characters of this file's diff not shown]\n`);
    used += kept.length;
    cut.push(pathOf(s));
  }
  const omitted = cut.filter((p) => !out.some((o) => pathOf(o) === p));
  if (omitted.length > 0) {
    out.push(
      `[diff not shown for ${omitted.length} more file(s): ${omitted.join(', ')}; read them in the checkout]\n`,
    );
  }
  return { text: out.join(''), truncated: cut.length > 0, cut };
}

/** `git diff --stat` and the bounded patch of base..head. */
export async function cumulativeDiff(
  repository: Pick<Repository, 'diff'>,
  base: string,
  head: string,
  limits: DiffLimits = DEFAULT_DIFF_LIMITS,
): Promise<{ stat: string; diff: BoundedDiff }> {
  const { stat, patch } = await repository.diff(base, head);
  return { stat, diff: boundDiff(patch, limits) };
}

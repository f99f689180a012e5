/**
 * The commit a task lands on staging as, and how orch recognises it later. Its trailers name the
 * task, the exact commit that was verified, the attempt and the run: "already merged" is read from
 * them on staging's first-parent history (which only orch writes), never from ancestry, because a
 * squashed task's own commits are never ancestors of staging.
 */

export type MergeStrategy = 'squash' | 'merge';

export const LANDING_TRAILERS = {
  task: 'Orch-Task',
  verified: 'Orch-Verified-Commit',
  attempt: 'Orch-Attempt',
  run: 'Orch-Run',
} as const;

export interface Landing {
  /** The commit on staging. */
  commit: string;
  task: string;
  verified: string;
  attempt: number;
  run: string;
}

const SUBJECT_MAX = 72;

/** A worker's summary as one plain line: no control characters, no line breaks (no forged trailers). */
export function subjectLine(text: string): string {
  const flat = text
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > SUBJECT_MAX ? `${flat.slice(0, SUBJECT_MAX - 1)}…` : flat;
}

export function landingMessage(input: {
  strategy: MergeStrategy;
  task: string;
  summary: string;
  verified: string;
  attempt: number;
  run: string;
}): string {
  const subject =
    input.strategy === 'squash'
      ? `${input.task}: ${subjectLine(input.summary) || 'verified changes'}`
      : `orch: merge ${input.task} (run ${input.run})`;
  const t = LANDING_TRAILERS;
  return (
    `${subject}\n\n` +
    `${t.task}: ${input.task}\n${t.verified}: ${input.verified}\n` +
    `${t.attempt}: ${input.attempt}\n${t.run}: ${input.run}`
  );
}

/** The `git log` format `parseLandings` reads: a record separator, the hash, NUL, the trailers. */
export const LANDING_LOG_FORMAT = '%x1e%H%x00%(trailers:only,unfold)';

/** Every orch landing in `git log --format=LANDING_LOG_FORMAT` output (commits without trailers are skipped). */
export function parseLandings(out: string): Landing[] {
  const landings: Landing[] = [];
  for (const rec of out.split('\x1e')) {
    const nul = rec.indexOf('\0');
    if (nul < 0) continue;
    const commit = rec.slice(0, nul).trim();
    const fields = new Map<string, string>();
    for (const line of rec.slice(nul + 1).split('\n')) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line.trim());
      // The first value of a key counts: orch writes each once.
      if (m && !fields.has(m[1]!)) fields.set(m[1]!, m[2]!.trim());
    }
    const t = LANDING_TRAILERS;
    const task = fields.get(t.task);
    const verified = fields.get(t.verified);
    const run = fields.get(t.run);
    const attempt = Number(fields.get(t.attempt));
    if (!task || !verified || !run || !Number.isInteger(attempt)) continue;
    landings.push({ commit, task, verified, attempt, run });
  }
  return landings;
}

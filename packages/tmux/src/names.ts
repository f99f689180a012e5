import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Names on orch's private tmux server.
 *
 * tmux rewrites `.` and `:` in session names to `_`, so `a.b` and `a_b` would clash. Ids are
 * encoded into `[a-z0-9_-]` with a prefix-free code whose escape char is `_`:
 *   `.` -> `_d`, `_` -> `_u`, any other char outside `[a-z0-9-]` -> `_x` + 6 hex digits.
 * An encoded id therefore never contains `__`, which is what separates run from task.
 */

/** The `-L` socket name for a repository: stable per real path, `[a-z0-9-]` only. */
export function socketNameFor(repoRoot: string): string {
  let real: string;
  try {
    real = realpathSync.native(repoRoot);
  } catch {
    // A repository that does not exist (yet) still gets a stable name.
    real = resolve(repoRoot);
  }
  return `orch-${createHash('sha256').update(real).digest('hex').slice(0, 12)}`;
}

/** Encodes an id so that distinct ids stay distinct after tmux's name rewriting. */
export function encodeId(id: string): string {
  let out = '';
  for (const ch of id) {
    if (/^[a-z0-9-]$/.test(ch)) out += ch;
    else if (ch === '.') out += '_d';
    else if (ch === '_') out += '_u';
    else out += `_x${ch.codePointAt(0)!.toString(16).padStart(6, '0')}`;
  }
  return out;
}

/** The supervisor's session of a run: `orch-<run>` (task sessions all contain `__`, this never does). */
export function supervisorSessionName(run: string): string {
  return `orch-${encodeId(run)}`;
}

/** Prefix shared by every task session of a run, for `listPanes(prefix)`. */
export function runSessionPrefix(run: string): string {
  return `orch-${encodeId(run)}__`;
}

/** A task's worker session: `orch-<run>__<task>`, injective in (run, task). */
export function sessionName(run: string, task: string): string {
  return `${runSessionPrefix(run)}${encodeId(task)}`;
}

/** The `wait-for` channel a session's `pane-died` hook signals. */
export function exitChannel(session: string): string {
  return `orch-exit-${session}`;
}

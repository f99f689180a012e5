/** Finding the repository a plan belongs to, without spawning git (plan checks must start fast). */
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { OrchError } from '@orch/core';

/** The git package's SAFE_GIT_CONFIG, repeated: importing it would load execa for every plan check. */
const SAFE_GIT_CONFIG = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false'];

/** The nearest folder at or above `start` that holds `.git` (a folder, or a worktree's file); else `start`. */
export function findRepoRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    try {
      statSync(join(dir, '.git'));
      return dir;
    } catch {
      const up = dirname(dir);
      if (up === dir) return resolve(start);
      dir = up;
    }
  }
}

/** The top of the git work tree containing `cwd`; an OrchError outside git. */
export async function gitTopLevel(cwd: string): Promise<string> {
  // execa loads lazily: plan checks never spawn, and it costs about 100 ms to import.
  const { execa } = await import('execa');
  const r = await execa('git', [...SAFE_GIT_CONFIG, 'rev-parse', '--show-toplevel'], { cwd, reject: false });
  if (r.exitCode !== 0) {
    throw new OrchError('ERR_ORCH_NOT_A_REPO', `${cwd} is not inside a git repository`, {
      hint: 'Run this inside the repository (the environment hash covers its tracked lockfiles).',
    });
  }
  return r.stdout.trim();
}

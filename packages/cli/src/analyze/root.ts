/** The tracked files of a repository (execa loads lazily: plan checks must start fast). */
import { OrchError } from '@orch/core';

/** The git package's SAFE_GIT_CONFIG, repeated: importing it would load execa for every plan check. */
const SAFE_GIT_CONFIG = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false'];

/** Every tracked file of the repository at `root`, repo-relative. */
export async function trackedFiles(root: string): Promise<string[]> {
  const { execa } = await import('execa');
  const r = await execa('git', [...SAFE_GIT_CONFIG, 'ls-files', '-z'], {
    cwd: root,
    reject: false,
    stripFinalNewline: false,
  });
  if (r.exitCode !== 0) {
    throw new OrchError('ERR_ORCH_GIT_FAILED', `git ls-files failed in ${root}: ${r.stderr.trim()}`, {
      hint: 'Check that git works in this repository (`git status`).',
    });
  }
  return r.stdout.split('\0').filter((p) => p !== '');
}

import { OrchError } from '@orch/core';
import { runGit } from './exec.js';

export interface GitVersion {
  major: number;
  minor: number;
  patch: number;
}

/** `merge-tree --write-tree` (merges without a checkout) arrived in git 2.38. */
export const MIN_GIT_VERSION: GitVersion = { major: 2, minor: 38, patch: 0 };

export function parseGitVersion(text: string): GitVersion | null {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

export async function gitVersion(): Promise<GitVersion> {
  const r = await runGit(['version']);
  const v = parseGitVersion(r.stdout);
  if (!v)
    throw new OrchError(
      'ERR_ORCH_GIT_VERSION',
      `cannot read the git version from ${JSON.stringify(r.stdout)}`,
    );
  return v;
}

export function compareVersions(a: GitVersion, b: GitVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** Throws unless git is at least MIN_GIT_VERSION; returns the version found. */
export async function assertGitVersion(min: GitVersion = MIN_GIT_VERSION): Promise<GitVersion> {
  const v = await gitVersion();
  if (compareVersions(v, min) < 0) {
    throw new OrchError(
      'ERR_ORCH_GIT_VERSION',
      `git ${v.major}.${v.minor}.${v.patch} is too old; orch needs ${min.major}.${min.minor} or newer`,
      {
        hint: "Upgrade git (e.g. from git-scm.com, or your package manager's backports).",
        details: { found: v },
      },
    );
  }
  return v;
}

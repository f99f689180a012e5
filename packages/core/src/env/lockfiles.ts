/** Lockfile names, at any depth of a repository. */

/** The seed's lockfiles plus bun, Pipfile and NuGet ones. */
export const LOCKFILE_NAMES: readonly string[] = [
  'uv.lock',
  'poetry.lock',
  'requirements.lock',
  'package-lock.json',
  'pnpm-lock.yaml',
  'yarn.lock',
  'Cargo.lock',
  'go.sum',
  'Gemfile.lock',
  'composer.lock',
  'bun.lock',
  'bun.lockb',
  'Pipfile.lock',
  'packages.lock.json',
];
const NAMES = new Set(LOCKFILE_NAMES);

/** Whether a repo-relative path names a lockfile (at any depth). */
export function isLockfile(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return NAMES.has(base);
}

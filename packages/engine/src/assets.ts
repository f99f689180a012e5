import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OrchError, shippedRoot } from '@orch/core';

/**
 * Files orch ships beside its code (`agents/`, `roles/`, `skills/`, `contracts-templates/`), found from this
 * module's own location so nothing depends on where orch was installed.
 */
export function assetsRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  return shippedRoot(from);
}

/**
 * The `orch` entry point, for the `orch` shim that workers get on PATH: the `bin.orch` of the
 * package.json beside the shipped files. Installed, that is the package's bundle (`dist/bin.js`); in
 * a working copy, the repository's package.json names the cli package's build.
 */
export function orchBinPath(root: string = assetsRoot()): string {
  const manifest = join(root, 'package.json');
  let bin: unknown;
  try {
    bin = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin?: Record<string, unknown> }).bin?.orch;
  } catch (e) {
    throw new OrchError('ERR_ORCH_ASSETS_NOT_FOUND', `${manifest} is missing or unreadable`, {
      hint: 'Reinstall orch; its package.json names the orch executable.',
      cause: e,
    });
  }
  if (typeof bin !== 'string') {
    throw new OrchError('ERR_ORCH_ASSETS_NOT_FOUND', `${manifest} names no orch executable (bin.orch)`, {
      hint: 'Reinstall orch.',
    });
  }
  const path = resolve(root, bin);
  if (!existsSync(path)) {
    throw new OrchError('ERR_ORCH_NOT_BUILT', `orch is not built: ${path} is missing.`, {
      hint: 'In a working copy of orch, run `pnpm build`; otherwise reinstall orch.',
    });
  }
  return path;
}

/** The bundle `pnpm bundle` makes in a working copy of orch, relative to its root. */
const WORKING_COPY_BUNDLE = join('packages', 'orch', 'dist', 'bin.js');

const workerBins = new Map<string, string>();

/**
 * The `orch` entry point the workers' own processes start (the `orch` shim, `orch _exec`, the
 * agents' hooks): every task starts two of them, and the bundle loads in about half the CPU time of
 * the workspace build's thousand modules. In a working copy of orch that is the bundle when one is
 * there and at least as new as every package's build (a stale one would run yesterday's code);
 * anywhere else (an installed orch is the bundle already), and without a fresh bundle, `orchBin`.
 */
export function workerBinPath(orchBin: string, root: string = assetsRoot()): string {
  // The tests pin the build they spawn: a bundle built part-way through the suite must not change it.
  if (process.env.ORCH_WORKER_BUNDLE === '0') return orchBin;
  const key = `${root}\0${orchBin}`;
  const known = workerBins.get(key);
  if (known) return known;
  const bundle = join(root, WORKING_COPY_BUNDLE);
  const chosen = isWorkspaceBuild(orchBin, root) && bundleIsFresh(root, bundle) ? bundle : orchBin;
  workerBins.set(key, chosen);
  return chosen;
}

/** `orchBin` is the working copy's own cli build (what its package.json names). */
function isWorkspaceBuild(orchBin: string, root: string): boolean {
  try {
    return orchBinPath(root) === orchBin;
  } catch {
    return false;
  }
}

/** The bundle exists and no package was built after it (`tsc -b` rewrites a package's build info). */
function bundleIsFresh(root: string, bundle: string): boolean {
  try {
    const made = statSync(bundle).mtimeMs;
    const packages = join(root, 'packages');
    for (const name of readdirSync(packages)) {
      const info = join(packages, name, 'dist', '.tsbuildinfo');
      if (existsSync(info) && statSync(info).mtimeMs > made) return false;
    }
    return true;
  } catch {
    return false;
  }
}

import { existsSync, readFileSync } from 'node:fs';
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

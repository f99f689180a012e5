import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OrchError } from '@orch/core';

/**
 * Files orch ships beside its packages (`agents/`, `skills/`, `contracts-templates/`), found from
 * this module's own location so nothing depends on where orch was installed.
 */
export function assetsRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i += 1) {
    if (existsSync(join(dir, 'agents', 'worker.md'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new OrchError(
    'ERR_ORCH_ASSETS_MISSING',
    'orch cannot find its agent definitions (agents/worker.md).',
    {
      hint: 'Reinstall orch; the agents/ folder must sit beside its packages/.',
    },
  );
}

/** The `orch` entry point, for the `orch` shim that workers get on PATH. */
export function orchBinPath(): string {
  const bin = join(assetsRoot(), 'packages', 'cli', 'dist', 'bin.js');
  if (!existsSync(bin)) {
    throw new OrchError('ERR_ORCH_NOT_BUILT', `orch is not built: ${bin} is missing.`, {
      hint: 'Run `pnpm build`.',
    });
  }
  return bin;
}

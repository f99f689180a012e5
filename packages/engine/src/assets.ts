import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OrchError } from '@orch/core';

/**
 * Files orch ships beside its packages (`agents/`, `skills/`, `contracts-templates/`), found from
 * this module's own location so nothing depends on where orch was installed.
 */
export function assetsRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const ships = existsSync(join(dir, 'agents', 'worker.md'));
    if (ships && existsSync(join(dir, 'skills', 'orchestrate', 'SKILL.md'))) return dir;
    if (dirname(dir) === dir) break;
  }
  throw new OrchError(
    'ERR_ORCH_ASSETS_NOT_FOUND',
    `the agent definitions and skill shipped with orch were not found above ${from}`,
    { hint: 'Reinstall orch; its package must contain agents/ and skills/orchestrate/.' },
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

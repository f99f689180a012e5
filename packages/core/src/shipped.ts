import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OrchError } from './errors.js';

/**
 * The folder holding the files orch ships beside its code (`agents/`, `skills/`,
 * `contracts-templates/`, `.claude-plugin/`, `package.json`): the nearest ancestor of `from` that has
 * them. Installed, that is the `orch` package's root (its bundle lives in `dist/`); in a working copy,
 * the repository root (each package's build lives in `packages/<name>/dist/`). Every module of orch
 * sits below it either way, so this module's own location is a good default.
 */
export function shippedRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
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

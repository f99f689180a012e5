import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OrchError } from './errors.js';

/**
 * The folder holding the files orch ships beside its code (`agents/` for the user's session,
 * `roles/` for the agents only the engine starts, `skills/`, `contracts-templates/`,
 * `.claude-plugin/`, `package.json`): the nearest ancestor of `from` that has them. Installed, that is the `orch` package's root (its bundle lives in `dist/`); in a working copy,
 * the repository root (each package's build lives in `packages/<name>/dist/`). Every module of orch
 * sits below it either way, so this module's own location is a good default.
 */
export function shippedRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const ships = existsSync(join(dir, 'roles', 'worker.md'));
    if (ships && existsSync(join(dir, 'skills', 'orchestrate', 'SKILL.md'))) return dir;
    if (dirname(dir) === dir) break;
  }
  throw new OrchError(
    'ERR_ORCH_ASSETS_NOT_FOUND',
    `the agent definitions and skill shipped with orch were not found above ${from}`,
    { hint: 'Reinstall orch; its package must contain roles/ and skills/orchestrate/.' },
  );
}

/**
 * The agents only the engine starts, each given its definition as the appended system prompt. They
 * live in `roles/`, not in the plugin's `agents/`, so Claude Code never offers them to the user's
 * session as ordinary subagents.
 */
export const ENGINE_ROLES = ['worker', 'verifier', 'reviewer', 'integration-checker'] as const;
export type EngineRole = (typeof ENGINE_ROLES)[number];

/** The definition of an engine-only agent: `roles/<role>.md` under the shipped root. */
export function roleFile(role: EngineRole, root: string = shippedRoot()): string {
  return join(root, 'roles', `${role}.md`);
}

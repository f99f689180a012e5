import { readdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE_ROLES } from '@orch/core';
import { assetsRoot } from '@orch/engine';

/**
 * The agent definitions offered to the user's Claude Code session (`agents/`, the plugin's agents
 * directory, and what `orch install` copies). The engine's own agents are in `roles/`.
 */
export const AGENT_NAMES = ['planner-architect', 'supervisor'] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

/** Every agent definition orch ships, user-facing and engine-only, relative to the assets root. */
export const DEFINITION_FILES: readonly string[] = [
  ...AGENT_NAMES.map((n) => `agents/${n}.md`),
  ...ENGINE_ROLES.map((n) => `roles/${n}.md`),
];

/**
 * The directory holding `agents/` and `skills/`: the nearest ancestor of this module that has them.
 * In the repository that is the repository root; in a packed cli package, the package root.
 */
export const findAssetsRoot = (from: string = dirname(fileURLToPath(import.meta.url))): string =>
  assetsRoot(from);

export function agentFile(name: AgentName, root: string = findAssetsRoot()): string {
  return join(root, 'agents', `${name}.md`);
}

/**
 * What `orch install` copies, as `/`-separated paths relative to the assets root: the user-facing
 * agents, then the skill.
 */
export async function listShippedFiles(root: string = findAssetsRoot()): Promise<string[]> {
  const agents = (await readdir(join(root, 'agents')))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `agents/${f}`);
  return [...agents, ...(await walk(root, join(root, 'skills', 'orchestrate')))];
}

async function walk(root: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(root, full)));
    else if (entry.isFile()) out.push(relative(root, full).split(sep).join('/'));
  }
  return out;
}

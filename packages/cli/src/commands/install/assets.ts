import { readdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assetsRoot } from '@orch/engine';

/** The agent definitions orch ships, in the order they are documented. */
export const AGENT_NAMES = [
  'planner-architect',
  'worker',
  'reviewer',
  'verifier',
  'integration-checker',
  'supervisor',
] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

/**
 * The directory holding `agents/` and `skills/`: the nearest ancestor of this module that has them.
 * In the repository that is the repository root; in a packed cli package, the package root.
 */
export const findAssetsRoot = (from: string = dirname(fileURLToPath(import.meta.url))): string =>
  assetsRoot(from);

export function agentFile(name: AgentName, root: string = findAssetsRoot()): string {
  return join(root, 'agents', `${name}.md`);
}

/** Every shipped file as a `/`-separated path relative to the assets root (agents first, then the skill). */
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

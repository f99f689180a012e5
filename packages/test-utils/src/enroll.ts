/**
 * Enrolling worker hosts as a user does: `orch host --identity` on the host (the built CLI, in the
 * host's work directory, which keeps the identity for its `orch host` later), then the lines in the
 * supervisor's config (`store.trusted_hosts`).
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { spawnOrch } from './cli.js';

/** The host's identity line, made in `workdir` on first use. */
export async function enrollHost(workdir: string, name: string): Promise<string> {
  const r = await spawnOrch(['host', '--identity', '--workdir', workdir, '--name', name], {
    cwd: dirname(workdir),
  });
  if (r.exitCode !== 0) throw new Error(`orch host --identity for ${name} failed: ${String(r.stderr)}`);
  return String(r.stdout).trim();
}

/** The config section that trusts these hosts (name → identity line). */
export function trustedHostsYaml(lines: Readonly<Record<string, string>>): string {
  const rows = Object.entries(lines).map(([name, line]) => `    ${JSON.stringify(name)}: ${line}\n`);
  return `store:\n  trusted_hosts:\n${rows.join('')}`;
}

/** Writes `orch.yaml` at the repository root trusting these hosts (and nothing else). */
export async function trustHosts(repoRoot: string, lines: Readonly<Record<string, string>>): Promise<void> {
  await writeFile(join(repoRoot, 'orch.yaml'), trustedHostsYaml(lines));
}

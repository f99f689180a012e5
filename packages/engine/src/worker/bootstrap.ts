/**
 * Makes a fresh worktree usable: gitignored files copied from the user's checkout (`.env` and the
 * like, from config and `.worktreeinclude`), big folders symlinked (`node_modules`), and setup
 * commands run. Every path is kept inside the repository.
 */
import { existsSync } from 'node:fs';
import { copyFile, lstat, mkdir, readFile, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { OrchError, normalizeRepoPath, type Config } from '@orch/core';

export async function readWorktreeInclude(repoRoot: string): Promise<string[]> {
  try {
    const text = await readFile(join(repoRoot, '.worktreeinclude'), 'utf8');
    return text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
  } catch {
    return [];
  }
}

export interface BootstrapResult {
  copied: string[];
  linked: string[];
  setup: { command: string; ok: boolean; output: string }[];
}

export async function bootstrapWorktree(
  repoRoot: string,
  worktree: string,
  config: Config,
  env: Record<string, string>,
): Promise<BootstrapResult> {
  const result: BootstrapResult = { copied: [], linked: [], setup: [] };
  const copies = [...config.worktree.copy, ...(await readWorktreeInclude(repoRoot))];
  for (const raw of copies) {
    const rel = normalizeRepoPath(raw);
    const from = join(repoRoot, rel);
    const to = join(worktree, rel);
    if (!existsSync(from) || existsSync(to)) continue;
    if ((await lstat(from)).isDirectory()) continue; // folders are for `symlink`
    await mkdir(dirname(to), { recursive: true });
    await copyFile(from, to);
    result.copied.push(rel);
  }
  for (const raw of config.worktree.symlink) {
    const rel = normalizeRepoPath(raw);
    const from = join(repoRoot, rel);
    const to = join(worktree, rel);
    if (!existsSync(from) || existsSync(to)) continue;
    await mkdir(dirname(to), { recursive: true });
    await symlink(from, to, 'dir');
    result.linked.push(rel);
  }
  for (const command of config.worktree.setup) {
    const r = await execa('sh', ['-c', command], {
      cwd: worktree,
      env,
      reject: false,
      all: true,
      timeout: config.verification.timeout * 1000,
    });
    const ok = r.exitCode === 0 && !r.timedOut;
    result.setup.push({ command, ok, output: String(r.all ?? '').slice(-4000) });
    if (!ok) {
      throw new OrchError(
        'ERR_ORCH_SETUP_FAILED',
        `Worktree setup command failed in ${worktree}: ${command}`,
        {
          hint: `Its output ends with:\n${String(r.all ?? '').slice(-800)}`,
        },
      );
    }
  }
  return result;
}

/** A distinct block of ports per task so parallel dev servers do not collide. */
export function portBase(config: Config, taskIndex: number): number {
  return config.orchestration.base_port + taskIndex * config.orchestration.ports_per_task;
}

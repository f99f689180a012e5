/**
 * Makes a fresh worktree usable: gitignored files copied from the user's checkout (`.env` and the
 * like, from config and `.worktreeinclude`), folders the user asked for symlinked, dependencies of
 * its own (`worktree.install`, see install.ts), and setup commands run. Every path is kept inside
 * the repository.
 */
import { existsSync } from 'node:fs';
import { appendFile, copyFile, lstat, mkdir, readFile, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { OrchError, normalizeRepoPath, type Config } from '@orch/core';
import { installWorktreeDeps, refreshWorktreeDeps } from './install.js';

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
  /** What the dependency step did or left alone, as written to the log. */
  install: string[];
  setup: { command: string; ok: boolean; output: string }[];
}

export interface BootstrapOptions {
  /** The worker's log: the dependency step's lines are appended to it. */
  logFile?: string;
  /** A spare made ahead of its task: files and dependencies only, no setup commands. */
  depsOnly?: boolean;
  /** Idle worktrees whose node_modules may be copied when made for the same lockfiles. */
  siblings?: readonly string[];
  /**
   * No user's checkout here (a worker host; `repoRoot` is then the worktree): nothing is copied or
   * linked from one, and dependencies come from the worktree's own lockfiles (see install.ts).
   */
  noCheckout?: boolean;
}

export async function bootstrapWorktree(
  repoRoot: string,
  worktree: string,
  config: Config,
  env: Record<string, string>,
  opts: BootstrapOptions = {},
): Promise<BootstrapResult> {
  const result: BootstrapResult = { copied: [], linked: [], install: [], setup: [] };
  const runCommand = async (command: string): Promise<void> => {
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
  };
  const copies = opts.noCheckout ? [] : [...config.worktree.copy, ...(await readWorktreeInclude(repoRoot))];
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
  for (const raw of opts.noCheckout ? [] : config.worktree.symlink) {
    const rel = normalizeRepoPath(raw);
    const from = join(repoRoot, rel);
    const to = join(worktree, rel);
    if (!existsSync(from) || existsSync(to)) continue;
    await mkdir(dirname(to), { recursive: true });
    await symlink(from, to, 'dir');
    result.linked.push(rel);
  }
  result.install = await installWorktreeDeps(repoRoot, worktree, config, env, runCommand, {
    ...(opts.siblings ? { siblings: opts.siblings } : {}),
    ...(opts.noCheckout ? { noCheckout: true } : {}),
  });
  await appendLog(opts.logFile, result.install);
  if (!opts.depsOnly) for (const command of config.worktree.setup) await runCommand(command);
  return result;
}

/** Appends bootstrap lines to a worker's log. */
export async function appendLog(logFile: string | undefined, lines: string[]): Promise<void> {
  if (!logFile || lines.length === 0) return;
  await mkdir(dirname(logFile), { recursive: true });
  await appendFile(logFile, lines.map((l) => `[orch bootstrap] ${l}\n`).join(''));
}

/**
 * An existing worktree about to be used again (a retry, after staging was merged into it):
 * its node_modules follows its lockfiles (see `refreshWorktreeDeps`); the lines go to the log.
 */
export async function refreshWorktree(
  repoRoot: string,
  worktree: string,
  config: Config,
  env: Record<string, string>,
  opts: BootstrapOptions = {},
): Promise<string[]> {
  const lines = await refreshWorktreeDeps(repoRoot, worktree, config, env, opts.siblings);
  await appendLog(opts.logFile, lines);
  return lines;
}

/** A distinct block of ports per task so parallel dev servers do not collide. */
export function portBase(config: Config, taskIndex: number): number {
  return config.orchestration.base_port + taskIndex * config.orchestration.ports_per_task;
}

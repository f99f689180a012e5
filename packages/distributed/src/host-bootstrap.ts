/**
 * A host's worktree bootstrap: the same as a local worktree's (`bootstrapWorktree`, with the run's
 * configuration the job carried): the dependency install from the worktree's lockfiles, then the
 * setup commands, with the task's environment (its ports among it). A node_modules made for the
 * same lockfiles (by their hash) is copied instead of installed: from the host's keep
 * (`DIR/deps/<hash>`, a copy of the first one it installed) or another attempt's worktree. A host has no checkout of the user: the files a
 * local run copies or links from it (`worktree.copy`, `.worktreeinclude`, `worktree.symlink`) are
 * not there, and the worker's log says so. Everything goes into the attempt's log.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isOrchError, traced, type Config } from '@orch/core';
import { bootstrapWorktree, cloneDir, readMarker, readWorktreeInclude } from '@orch/engine';

/** Appends lines to an attempt's log, marked as the host's. */
export async function hostLog(logFile: string, host: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await mkdir(dirname(logFile), { recursive: true });
  await appendFile(logFile, lines.map((l) => `[orch host ${host}] ${l}\n`).join(''));
}

/** The worktrees of this host's attempts (by run and task under its `work` folder), for the reuse of their node_modules. */
async function hostWorktrees(workRoot: string): Promise<string[]> {
  const out: string[] = [];
  for (const run of await readdir(workRoot).catch(() => [] as string[]))
    for (const task of await readdir(join(workRoot, run)).catch(() => [] as string[]))
      out.push(join(workRoot, run, task));
  return out;
}

/** The host's keep of node_modules by lockfile hash (`DIR/deps/<hash>/node_modules`). */
async function keptDeps(depsRoot: string): Promise<string[]> {
  const names = await readdir(depsRoot).catch(() => [] as string[]);
  return names.filter((n) => /^[0-9a-f]{16,64}$/.test(n)).map((n) => join(depsRoot, n));
}

/**
 * Keeps a copy of the node_modules the bootstrap just installed (before any worker ran in the
 * worktree), once per lockfile hash; made aside and renamed into place, so a half-made copy is
 * never taken.
 */
async function keepDeps(depsRoot: string, worktree: string, timeoutMs: number): Promise<void> {
  const marker = await readMarker(join(worktree, 'node_modules'));
  if (!marker || !/^[0-9a-f]{16,64}$/.test(marker.key) || marker.at !== worktree) return;
  const dest = join(depsRoot, marker.key);
  if (existsSync(dest)) return;
  const tmp = join(depsRoot, `.making-${randomBytes(6).toString('hex')}`);
  try {
    for (const d of ['', ...marker.nested])
      await cloneDir(join(worktree, d, 'node_modules'), join(tmp, d, 'node_modules'), timeoutMs);
    await rename(tmp, dest);
  } catch (e) {
    traced('host.keepDeps')(e); // another attempt kept one first, or the disk is full: no keep
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export interface HostBootstrap {
  host: string;
  /** The attempt's new worktree, the folder of every attempt's (`DIR/work`), the keep (`DIR/deps`). */
  worktree: string;
  workRoot: string;
  depsRoot: string;
  config: Config;
  /** What the setup and install commands see (the host's environment without its secrets, the task's). */
  env: Record<string, string>;
  logFile: string;
}

/** Bootstraps the attempt's worktree; a failing setup command throws its error, as locally. */
export async function bootstrapOnHost(o: HostBootstrap): Promise<void> {
  const fromCheckout = [
    ...o.config.worktree.copy,
    ...(await readWorktreeInclude(o.worktree)),
    ...o.config.worktree.symlink,
  ];
  if (fromCheckout.length > 0)
    await hostLog(o.logFile, o.host, [
      `not on this host (a local run copies or links them from the user's checkout, which may hold secrets): ${[...new Set(fromCheckout)].join(', ')}`,
    ]);
  const siblings = [
    ...(await keptDeps(o.depsRoot)),
    ...(await hostWorktrees(o.workRoot)).filter((w) => w !== o.worktree),
  ];
  try {
    const made = await bootstrapWorktree(o.worktree, o.worktree, o.config, o.env, {
      logFile: o.logFile,
      siblings,
      noCheckout: true,
    });
    if (made.install.some((l) => l.startsWith('node_modules: installed'))) {
      await mkdir(o.depsRoot, { recursive: true });
      await keepDeps(o.depsRoot, o.worktree, o.config.verification.timeout * 1000);
    }
  } catch (e) {
    const what = isOrchError(e) ? `${e.message}${e.hint ? `\n${e.hint}` : ''}` : String(e);
    await hostLog(o.logFile, o.host, [`the worktree's bootstrap failed: ${what}`]);
    throw e;
  }
}

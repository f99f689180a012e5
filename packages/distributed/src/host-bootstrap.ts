/**
 * A host's worktree bootstrap: the same as a local worktree's (`bootstrapWorktree`, with the run's
 * configuration the job carried): the dependency install from the worktree's lockfiles, reusing a
 * node_modules another worktree of this host made for the same lockfiles, then the setup commands,
 * with the task's environment (its ports among it). A host has no checkout of the user: the files a
 * local run copies or links from it (`worktree.copy`, `.worktreeinclude`, `worktree.symlink`) are
 * not there, and the worker's log says so. Everything goes into the attempt's log.
 */
import { appendFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isOrchError, type Config } from '@orch/core';
import { bootstrapWorktree, readWorktreeInclude } from '@orch/engine';

/** Appends lines to an attempt's log, marked as the host's. */
export async function hostLog(logFile: string, host: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await mkdir(dirname(logFile), { recursive: true });
  await appendFile(logFile, lines.map((l) => `[orch host ${host}] ${l}\n`).join(''));
}

/** The worktrees of this host's attempts (`DIR/work/<run>/<task>`), for the reuse of their node_modules. */
async function hostWorktrees(workRoot: string): Promise<string[]> {
  const out: string[] = [];
  for (const run of await readdir(workRoot).catch(() => [] as string[]))
    for (const task of await readdir(join(workRoot, run)).catch(() => [] as string[]))
      out.push(join(workRoot, run, task));
  return out;
}

export interface HostBootstrap {
  host: string;
  /** The attempt's new worktree, and the folder of every attempt's (`DIR/work`). */
  worktree: string;
  workRoot: string;
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
  const siblings = (await hostWorktrees(o.workRoot)).filter((w) => w !== o.worktree);
  try {
    await bootstrapWorktree(o.worktree, o.worktree, o.config, o.env, {
      logFile: o.logFile,
      siblings,
      noCheckout: true,
    });
  } catch (e) {
    const what = isOrchError(e) ? `${e.message}${e.hint ? `\n${e.hint}` : ''}` : String(e);
    await hostLog(o.logFile, o.host, [`the worktree's bootstrap failed: ${what}`]);
    throw e;
  }
}

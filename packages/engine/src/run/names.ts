/** Names and places of a run's branches and worktrees: built only here. */
import { join } from 'node:path';
import type { Config } from '@orch/core';

export function stagingBranch(run: string): string {
  return `orch/${run}/staging`;
}

/**
 * A task's branch: `orch/<run>/<task>/work`, so that the ref directory `orch/<run>/<task>/` holds
 * this one branch and nothing else, and a worker's sandbox can make exactly that directory writable.
 * Build the name only here.
 */
export function taskBranch(run: string, task: string): string {
  return `orch/${run}/${task}/work`;
}

export function archiveBranch(run: string, task: string, n: number): string {
  return `orch/${run}/archive/${task}-${n}`;
}

export function worktreePath(repoRoot: string, config: Config, task: string): string {
  return join(repoRoot, config.orchestration.worktree_dir, task);
}

export function integrationWorktreePath(repoRoot: string, config: Config, run: string): string {
  // Task ids start with [a-z0-9], so a leading underscore can never clash with a task's worktree.
  return join(repoRoot, config.orchestration.worktree_dir, `_integration-${run}`);
}

/** orch's own checkout of the commit being verified for a task (removed after each verification). */
export function verifyWorktreePath(repoRoot: string, config: Config, run: string, task: string): string {
  return join(repoRoot, config.orchestration.worktree_dir, `_verify-${run}-${task}`);
}

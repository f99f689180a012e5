/**
 * Abort: stop the supervisor and workers of a run that has not finished, remove its worktrees and
 * branches, and put back every ref it moved. Nothing of the user's is lost: a worktree's
 * uncommitted state (hand edits in a kept worktree included) is committed to an archive branch
 * first, and every commit the user's branch does not have (unmerged task branches, staging's
 * unpromoted merges) stays on an archive branch, each listed with the command that gets it back.
 * A finished run has nothing to abort; `orch state clean` removes what it left.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { OrchError, loadConfig, type RunState, isProcessAlive } from '@orch/core';
import {
  Repo,
  archiveCommit,
  casUpdateRef,
  pruneWorktrees,
  removeWorktree,
  snapshotWorktree,
} from '@orch/git';
import { appendEvent, loadRunState, runPaths } from '@orch/store';
import { sessionName, supervisorSessionName } from '@orch/tmux';
import { stopLeftoverCommands } from '../verify/watchdog.js';
import { verifyWorktrees } from '../integrate/worktree.js';
import { poolWorktrees } from '../worker/pool.js';
import { archiveBranch, integrationWorktreePath, stagingBranch, tmuxFor } from './context.js';

export interface KeptWork {
  /** What was kept: a worktree's uncommitted changes, a task branch, or staging. */
  what: string;
  /** The archive branch that holds it. */
  branch: string;
  commit: string;
  /** The command that gets it back. */
  restore: string;
}

export interface AbortResult {
  run: string;
  sessionsKilled: string[];
  worktreesRemoved: string[];
  branchesDeleted: { name: string; commit: string; merged: boolean }[];
  refsRestored: { ref: string; from: string; to: string }[];
  /** Work that the user's branch does not have, kept on archive branches. */
  kept: KeptWork[];
  manual: string[];
}

/** Phases after which a run has nothing to abort (needs_attention waits for the user's choice). */
export const FINISHED_PHASES: readonly string[] = ['succeeded', 'failed', 'aborted'];

function alive(pid: number | undefined): boolean {
  return pid !== undefined && isProcessAlive(pid);
}

/** The id archives of a branch are named after: the task (`orch/<run>/<task>[/work]`), or staging. */
function archiveIdOf(run: string, branch: string): string {
  const rest = branch.slice(`orch/${run}/`.length);
  return rest.split('/')[0] ?? rest;
}

export async function abortRun(repoRoot: string, run: string): Promise<AbortResult> {
  const dir = runPaths(repoRoot, run).dir;
  // A run stopped before its first journal line still owns what `orch run` made before writing it
  // (its staging branch, its integration worktree): abort removes those too.
  const state: RunState | undefined = await loadRunState(dir);
  if (state && FINISHED_PHASES.includes(state.phase)) {
    throw new OrchError(
      'ERR_ORCH_RUN_FINISHED',
      `Run ${run} has already ${state.phase}: there is nothing to abort.`,
      {
        hint:
          state.phase === 'succeeded'
            ? `Its work is on ${state.base}; to remove the run's staging branch, archives and folder, run \`orch state clean --run ${run}\`.`
            : `To remove the run's staging branch, archives and folder, run \`orch state clean --run ${run}\` (add --dry-run to see what it would remove).`,
        details: { run, phase: state.phase },
      },
    );
  }
  const repo = await Repo.open(repoRoot);
  const config = await loadConfig(repoRoot);
  const tmux = await tmuxFor(repoRoot);
  const out: AbortResult = {
    run,
    sessionsKilled: [],
    worktreesRemoved: [],
    branchesDeleted: [],
    refsRestored: [],
    kept: [],
    manual: [],
  };

  if (state?.supervisorAlive && alive(state.supervisorPid) && state.supervisorPid !== process.pid) {
    process.kill(state.supervisorPid as number, 'SIGTERM');
    for (let i = 0; i < 100 && alive(state.supervisorPid); i += 1)
      await new Promise((r) => setTimeout(r, 100));
  }
  // Checks a dead supervisor left running (their watchdogs would end them at their deadline).
  await stopLeftoverCommands(dir);
  const order = state?.order ?? [];
  for (const name of [supervisorSessionName(run), ...order.map((id) => sessionName(run, id))]) {
    if (await tmux.hasSession(name)) {
      await tmux.killSession(name);
      out.sessionsKilled.push(name);
    }
  }

  const keep = async (what: string, id: string, commit: string): Promise<void> => {
    if (out.kept.some((k) => k.commit === commit)) return;
    const a = await archiveCommit(repo, commit, archiveBranch(run, id, 1), `orch: abort keeps ${what}`);
    const branch = a.ref.slice('refs/heads/'.length);
    out.kept.push({ what, branch, commit, restore: `git switch -c ${id}-rescue ${branch}` });
  };

  // Worktrees that may hold someone's work: the tasks' (a kept worktree is where the escalation
  // report sends people) and the integration worktree. Pool worktrees were never handed out.
  const workTrees: [string, string][] = [
    ...order.flatMap((id): [string, string][] => {
      const wt = state?.tasks[id]?.worktree;
      return wt ? [[id, wt]] : [];
    }),
    ['integration', integrationWorktreePath(repoRoot, config, run)],
  ];
  for (const [id, wt] of workTrees) {
    if (!existsSync(wt)) continue;
    const snap = await snapshotWorktree(wt, `orch: uncommitted work of ${id} when run ${run} was aborted`);
    if (snap) await keep(`uncommitted changes in ${wt}`, id, snap.commit);
    else if ((await repo.currentBranch(wt)) === null) {
      // A detached HEAD's commits are on no branch: keep them unless a branch has them.
      const head = await repo.git(['rev-parse', '--verify', '--quiet', 'HEAD'], { cwd: wt, reject: false });
      const commit = head.stdout.trim();
      // Staging counts here: it is kept below when it has anything the base lacks.
      if (head.exitCode === 0 && !(await keptElsewhere(repo, commit, run, { staging: true })))
        await keep(`the detached HEAD of ${wt}`, id, commit);
    }
  }
  for (const wt of [
    ...workTrees.map(([, p]) => p),
    ...(await poolWorktrees({ repo, repoRoot, config, run })),
    ...(await verifyWorktrees({ repo, repoRoot, config, run })),
  ]) {
    if (!existsSync(wt)) continue;
    await removeWorktree(repo, wt, { force: true });
    out.worktreesRemoved.push(wt);
  }
  await pruneWorktrees(repo);

  // Put the base branch back if the run promoted it and nobody moved it since (a run aborted
  // between promotion and its last journal line; staging, kept below, still has the work).
  const p = state?.promotion;
  if (state && p?.ok && p.from && p.to) {
    const ref = `refs/heads/${state.base}`;
    const tip = await repo.tryRevParse(ref);
    const where = (await repo.checkedOutBranches()).get(state.base);
    if (tip !== p.to) {
      out.manual.push(`${state.base} moved after the run promoted it; it was left at ${tip?.slice(0, 12)}`);
    } else if (where) {
      const r = await repo.git(['reset', '--keep', p.from], { cwd: where, reject: false });
      if (r.exitCode === 0) out.refsRestored.push({ ref, from: p.to, to: p.from });
      else out.manual.push(`git -C ${JSON.stringify(where)} reset --keep ${p.from}`);
    } else {
      await casUpdateRef(repo, ref, p.from, p.to);
      out.refsRestored.push({ ref, from: p.to, to: p.from });
    }
  }

  // Branches: what the user's branch lacks is kept on an archive branch before the branch goes;
  // archives stay (they are kept work, removed only by `orch state clean`).
  // Staging first: once its unpromoted work is archived, task branches merged into it are kept.
  const branches = (await repo.listBranches(`orch/${run}/`))
    .filter((b) => !b.name.startsWith(`orch/${run}/archive/`))
    .sort((a, b) => Number(b.name === stagingBranch(run)) - Number(a.name === stagingBranch(run)));
  for (const b of branches) {
    const isStaging = b.name === stagingBranch(run);
    const merged = await keptElsewhere(repo, b.commit, run);
    if (!merged) {
      const what = isStaging ? 'the merged, unpromoted work on staging' : `branch ${b.name}`;
      await keep(what, isStaging ? 'staging' : archiveIdOf(run, b.name), b.commit);
    }
    await repo.deleteBranch(b.name, { force: true });
    out.branchesDeleted.push({ name: b.name, commit: b.commit, merged });
  }
  if (!state) {
    // Nothing was journaled, so nothing is kept: the folder held only orch's copy of the plan.
    await rm(dir, { recursive: true, force: true });
  } else {
    await appendEvent(dir, { type: 'run.finished', outcome: 'aborted', reason: 'aborted by the user' });
  }
  return out;
}

/**
 * Whether a branch or tag that abort leaves in place (anything but the run's own branches; its
 * archives count) has `commit` in its history, so that dropping the run's refs loses nothing.
 */
async function keptElsewhere(
  repo: Repo,
  commit: string,
  run: string,
  opts: { staging?: boolean } = {},
): Promise<boolean> {
  const r = await repo.git(
    ['for-each-ref', '--format=%(refname)', '--contains', commit, 'refs/heads/', 'refs/tags/'],
    { reject: false },
  );
  if (r.exitCode !== 0) return false;
  const own = `refs/heads/orch/${run}/`;
  return r.stdout
    .split('\n')
    .some(
      (ref) =>
        ref !== '' &&
        (!ref.startsWith(own) ||
          ref.startsWith(`${own}archive/`) ||
          (opts.staging === true && ref === `refs/heads/${stagingBranch(run)}`)),
    );
}

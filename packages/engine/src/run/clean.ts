/**
 * `orch state clean`: removes what finished runs leave behind, on request: their staging
 * branches, archive branches (kept work: the user asks for this), task branches, clean worktrees,
 * tmux sessions and run folders. Never a live run, never a branch outside `orch/<run>/`, never a
 * branch checked out elsewhere (someone recovering an archive), never a worktree with changes.
 */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { relative } from 'node:path';
import { OrchError, loadConfig, isProcessAlive, traced } from '@orch/core';
import { Repo, pruneWorktrees, removeWorktree } from '@orch/git';
import { listRuns, loadRunState, orchPaths, runPaths } from '@orch/store';
import { sessionName, supervisorSessionName } from '@orch/tmux';
import { poolWorktrees } from '../worker/pool.js';
import { FINISHED_PHASES } from './abort.js';
import { integrationWorktreePath, tmuxFor } from './context.js';

export interface CleanRun {
  run: string;
  phase: string;
  branches: { name: string; commit: string }[];
  worktrees: string[];
  sessions: string[];
  /** The run folder, relative to the repository root. */
  folder: string;
}

export interface CleanResult {
  dryRun: boolean;
  removed: CleanRun[];
  /** Runs (or parts of them) left in place, and why. */
  kept: { run: string; reason: string }[];
}

export async function cleanRuns(
  repoRoot: string,
  opts: { run?: string; dryRun?: boolean } = {},
): Promise<CleanResult> {
  const repo = await Repo.open(repoRoot);
  const config = await loadConfig(repoRoot);
  const tmux = await tmuxFor(repoRoot);
  const ids = opts.run ? [opts.run] : (await listRuns(repoRoot)).map((r) => r.run);
  const out: CleanResult = { dryRun: opts.dryRun === true, removed: [], kept: [] };
  const checkedOut = await repo.checkedOutBranches();

  for (const run of ids) {
    const paths = runPaths(repoRoot, run);
    const state = await loadRunState(paths.dir).catch(traced('clean.loadRunState'));
    const live = !state
      ? 'it has no journal yet (it may be starting; `orch state abort` removes a run stopped before it began)'
      : !FINISHED_PHASES.includes(state.phase)
        ? `it is ${state.phase}, not finished (\`orch state abort --run ${run}\` stops it and keeps its work)`
        : state.supervisorPid !== undefined && state.supervisorAlive && isProcessAlive(state.supervisorPid)
          ? `its supervisor (pid ${state.supervisorPid}) is still running`
          : undefined;
    if (live) {
      if (opts.run) {
        throw new OrchError('ERR_ORCH_RUN_LIVE', `Run ${run} cannot be cleaned: ${live}.`, {
          hint: 'Only finished runs (succeeded, failed, aborted) are cleaned; `orch state list` shows each run.',
        });
      }
      out.kept.push({ run, reason: live });
      continue;
    }
    const worktrees = [
      ...state!.order.map((id) => state!.tasks[id]?.worktree).filter((p): p is string => Boolean(p)),
      integrationWorktreePath(repoRoot, config, run),
      ...(await poolWorktrees({ repo, repoRoot, config, run })),
    ].filter((p, i, all) => existsSync(p) && all.indexOf(p) === i);
    const dirty: string[] = [];
    for (const wt of worktrees) if (!(await repo.isClean(wt).catch(() => true))) dirty.push(wt);
    if (dirty.length > 0) {
      out.kept.push({
        run,
        reason: `${dirty.map((d) => relative(repoRoot, d) || d).join(', ')} has uncommitted changes: save them elsewhere (clean deletes the run's branches) or discard them, then clean again`,
      });
      continue;
    }
    const branches: CleanRun['branches'] = [];
    for (const b of await repo.listBranches(`orch/${run}/`)) {
      const where = checkedOut.get(b.name);
      if (where && !worktrees.includes(where)) {
        out.kept.push({ run, reason: `${b.name} is checked out in ${where}` });
        continue;
      }
      branches.push(b);
    }
    const sessions: string[] = [];
    for (const name of [supervisorSessionName(run), ...state!.order.map((id) => sessionName(run, id))])
      if (await tmux.hasSession(name)) sessions.push(name);
    const plan: CleanRun = {
      run,
      phase: state!.phase,
      branches,
      worktrees,
      sessions,
      folder: relative(repoRoot, paths.dir),
    };
    out.removed.push(plan);
    if (opts.dryRun) continue;
    for (const s of sessions) await tmux.killSession(s);
    for (const wt of worktrees) await removeWorktree(repo, wt, { force: true });
    await pruneWorktrees(repo);
    for (const b of branches) await repo.deleteBranch(b.name, { force: true });
    await rm(paths.dir, { recursive: true, force: true });
    const current = orchPaths(repoRoot).currentFile;
    if ((await readFile(current, 'utf8').catch(() => '')).trim() === run) await rm(current, { force: true });
  }
  return out;
}

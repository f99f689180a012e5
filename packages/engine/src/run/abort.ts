/**
 * Abort: stop the supervisor and workers, remove the run's worktrees and branches, and put back
 * every ref the run moved. Logs and reports stay; unmerged branch tips are listed so nothing is
 * lost without a trace.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { isTerminalPhase, type RunState } from '@orch/core';
import { Repo, casUpdateRef, removeWorktree, pruneWorktrees } from '@orch/git';
import { appendEvent, isProcessAlive, loadRunState, runPaths } from '@orch/store';
import { sessionName, supervisorSessionName } from '@orch/tmux';
import { verifyWorktrees } from '../integrate/worktree.js';
import { poolWorktrees } from '../worker/pool.js';
import { integrationWorktreePath, stagingBranch, tmuxFor } from './context.js';
import { loadConfig } from '@orch/core';

export interface AbortResult {
  run: string;
  sessionsKilled: string[];
  worktreesRemoved: string[];
  branchesDeleted: { name: string; commit: string; merged: boolean }[];
  refsRestored: { ref: string; from: string; to: string }[];
  manual: string[];
}

function alive(pid: number | undefined): boolean {
  return pid !== undefined && isProcessAlive(pid);
}

export async function abortRun(repoRoot: string, run: string): Promise<AbortResult> {
  const dir = runPaths(repoRoot, run).dir;
  // A run stopped before its first journal line still owns what `orch run` made before writing it
  // (its staging branch, its integration worktree): abort removes those too.
  const state: RunState | undefined = await loadRunState(dir);
  const repo = await Repo.open(repoRoot);
  const config = await loadConfig(repoRoot);
  const tmux = await tmuxFor(repoRoot);
  const out: AbortResult = {
    run,
    sessionsKilled: [],
    worktreesRemoved: [],
    branchesDeleted: [],
    refsRestored: [],
    manual: [],
  };

  if (state?.supervisorAlive && alive(state.supervisorPid) && state.supervisorPid !== process.pid) {
    process.kill(state.supervisorPid as number, 'SIGTERM');
    for (let i = 0; i < 100 && alive(state.supervisorPid); i += 1)
      await new Promise((r) => setTimeout(r, 100));
  }
  const order = state?.order ?? [];
  for (const name of [supervisorSessionName(run), ...order.map((id) => sessionName(run, id))]) {
    if (await tmux.hasSession(name)) {
      await tmux.killSession(name);
      out.sessionsKilled.push(name);
    }
  }
  const worktrees = [
    ...order.map((id) => state?.tasks[id]?.worktree).filter((p): p is string => Boolean(p)),
    integrationWorktreePath(repoRoot, config, run),
    ...(await poolWorktrees({ repo, repoRoot, config, run })),
    ...(await verifyWorktrees({ repo, repoRoot, config, run })),
  ];
  for (const wt of worktrees) {
    if (!existsSync(wt)) continue;
    await removeWorktree(repo, wt, { force: true });
    out.worktreesRemoved.push(wt);
  }
  await pruneWorktrees(repo);

  // Put the base branch back if the run promoted it and nobody moved it since.
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
  const staging = await repo.tryRevParse(`refs/heads/${stagingBranch(run)}`);
  for (const b of await repo.listBranches(`orch/${run}/`)) {
    const merged = staging ? await repo.isAncestor(b.commit, staging) : false;
    await repo.deleteBranch(b.name, { force: true });
    out.branchesDeleted.push({ name: b.name, commit: b.commit, merged });
  }
  if (!state) {
    // Nothing was journaled, so nothing is kept: the folder held only orch's copy of the plan.
    await rm(dir, { recursive: true, force: true });
  } else if (!isTerminalPhase(state.phase)) {
    await appendEvent(dir, { type: 'run.finished', outcome: 'aborted', reason: 'aborted by the user' });
  } else if (state.outcome !== 'aborted') {
    await appendEvent(dir, {
      type: 'run.finished',
      outcome: 'aborted',
      reason: 'aborted by the user after it ended',
    });
  }
  return out;
}

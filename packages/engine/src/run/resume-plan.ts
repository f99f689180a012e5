/**
 * The pure middle step of resume: `classify(state, facts)` turns what orch believed (the journal's
 * state) and what is true (the facts `scanWorld` gathered from git, tmux and the run folder) into a
 * plan of typed repairs and per-task actions. No I/O here: every row of docs/resume.md is a table
 * test of this function.
 */
import { isFinished, isTerminalPhase, type RunState, type TaskState } from '@orch/core';

export type ResumeAction =
  | 'merged' // its branch is in staging already: record it
  | 'watch' // its worker is alive: keep it, watch it again
  | 'verify' // the worker reported done: verify (and merge) it
  | 'restart' // no worker, no report: start it again in the same worktree, told it was interrupted
  | 'wait' // blocked: wait for a decision again
  | 'schedule' // not started yet: the scheduler takes it
  | 'none'; // finished

/** One repair a resume makes before the supervisor takes over; each is journaled as a `repair` event. */
export type ResumeRepair = { what: string; task?: string } & (
  | { kind: 'journal' } // a half-written last journal line
  | { kind: 'staging'; from: string; to: string } // staging moved without the journal knowing
  | { kind: 'record-start'; task: string; attempt: number; alive: boolean } // a launch never journaled
  | { kind: 'recreate-worktree'; task: string } // worktree gone, branch present
  | { kind: 'git-locks'; task: string } // lock files a killed worker left in its worktree
  | { kind: 'archive'; task: string; branch: string } // a branch that cannot be continued
  | { kind: 'tidy-merged'; task: string } // worktree, branch or session of a merged task left behind
  | { kind: 'run-worktree'; path: string } // integration or pool worktree left by a run that finished
  | { kind: 'supervisor-session'; session: string } // a dead supervisor pane of a detached run
  | { kind: 'leftover-command'; pgid: number } // a check the dead supervisor left running
);

export interface ResumeItem {
  task: string;
  status: TaskState['status'];
  action: ResumeAction;
  detail: string;
}

export interface ResumePlan {
  run: string;
  phase: RunState['phase'];
  finished: boolean;
  /** The run had ended (failed, or stopped for a person) and is taken up again. */
  reopen: boolean;
  /** The supervisor runs in the background (the run was started with --detach). */
  detached: boolean;
  repairs: ResumeRepair[];
  items: ResumeItem[];
}

/** What resume found of one task in git, tmux and the run folder. Plain data. */
export interface TaskFacts {
  /** The tip of its task branch, or null when the branch is gone. */
  branchTip: string | null;
  /** Its worktree folder exists; `git`: it is a checkout (has `.git`); `dirty`: uncommitted changes. */
  worktree: { exists: boolean; git: boolean; dirty: boolean };
  /** Its tmux session: there at all, and with a live pane. */
  session: { exists: boolean; alive: boolean; pid?: number };
  /** Its landing on staging (from staging's trailers), and whether its incremental check passed. */
  landing?: { verified: string; checked: boolean };
  /** Its branch holds nothing staging lacks (looked at only for merged tasks). */
  branchLanded: boolean;
  /** Dependencies whose merge its branch lacks (looked at only for tasks not started). */
  missingDeps: string[];
  /** Highest attempt whose exec spec was written (launched, maybe never journaled); 0 if none. */
  launched: number;
}

/** What resume found of the run as a whole. */
export interface WorldFacts {
  stagingTip: string;
  /** Staging moved in a way orch recomputes as its own: why (undefined when it did not move). */
  stagingMove?: string;
  /** The journal ends in a half-written line. */
  tornTail: boolean;
  leftoverCommands: { pgid: number; command: string; startedAt: string }[];
  /** Integration and recycled worktrees left behind (looked at only when the run is over). */
  runWorktrees: string[];
  supervisorSession: { name: string; exists: boolean; dead: boolean };
  tasks: Record<string, TaskFacts>;
}

/** A failed or stopped-for-a-person run is taken up again; a succeeded (or aborted) one is over. */
export function runStance(state: RunState): { reopen: boolean; finished: boolean } {
  const reopen = state.outcome === 'failed' || state.outcome === 'needs_attention';
  const finished = state.outcome === 'succeeded' || (isTerminalPhase(state.phase) && !reopen);
  return { reopen, finished };
}

/** The names classify needs (kept here so it stays free of the modules that do I/O). */
export interface ResumeNames {
  taskBranch(task: string): string;
  archiveBranch(task: string, n: number): string;
}

export function classify(state: RunState, facts: WorldFacts, names: ResumeNames): ResumePlan {
  const { reopen, finished } = runStance(state);
  const repairs: ResumeRepair[] = [];
  if (facts.tornTail) repairs.push({ kind: 'journal', what: 'cut a half-written last journal line' });
  // Verification and integration commands of a supervisor that died; their watchdogs end them at
  // their deadline anyway, resume ends them now so nothing runs twice.
  for (const c of facts.leftoverCommands)
    repairs.push({
      kind: 'leftover-command',
      pgid: c.pgid,
      what: `stop the leftover command \`${c.command}\` (process group ${c.pgid}, started ${c.startedAt})`,
    });
  // Only a move orch itself made and could not journal is a repair; any other was refused already.
  if (facts.stagingMove !== undefined)
    repairs.push({
      kind: 'staging',
      from: state.stagingCommit,
      to: facts.stagingTip,
      what: `staging is at ${facts.stagingTip.slice(0, 12)}, the journal said ${state.stagingCommit.slice(0, 12)}: ${facts.stagingMove}`,
    });
  const items: ResumeItem[] = [];
  for (const id of state.order) {
    const t = state.tasks[id] as TaskState;
    const f = facts.tasks[id] ?? NO_FACTS;
    items.push(classifyTask(state, t, f, reopen, names, repairs));
  }
  if (finished)
    for (const path of facts.runWorktrees)
      repairs.push({ kind: 'run-worktree', path, what: `remove the finished run's worktree ${path}` });
  const sup = facts.supervisorSession;
  if (sup.exists && (sup.dead || finished))
    repairs.push({
      kind: 'supervisor-session',
      session: sup.name,
      what: `remove the ended supervisor session ${sup.name}`,
    });
  return { run: state.run, phase: state.phase, finished, reopen, detached: state.detached, repairs, items };
}

const NO_FACTS: TaskFacts = {
  branchTip: null,
  worktree: { exists: false, git: false, dirty: false },
  session: { exists: false, alive: false },
  branchLanded: false,
  missingDeps: [],
  launched: 0,
};

function classifyTask(
  state: RunState,
  t: TaskState,
  f: TaskFacts,
  reopen: boolean,
  names: ResumeNames,
  repairs: ResumeRepair[],
): ResumeItem {
  const base = { task: t.id, status: t.status };
  if (t.status === 'merged') {
    const left = [
      f.worktree.exists ? 'worktree' : '',
      f.branchTip && f.branchLanded ? 'branch' : '',
      f.session.exists ? 'session' : '',
    ].filter(Boolean);
    if (left.length > 0)
      repairs.push({
        kind: 'tidy-merged',
        task: t.id,
        what: `${t.id} is merged: remove its leftover ${left.join(', ')}`,
      });
    return { ...base, action: 'none', detail: 'merged' };
  }
  if (reopen && t.status === 'failed') {
    return f.branchTip
      ? {
          ...base,
          action: 'verify',
          detail: 'failed before: verify its branch again (with any fix made by hand), retries renewed',
        }
      : { ...base, action: 'schedule', detail: 'failed before and its branch is gone: start it afresh' };
  }
  if (reopen && t.status === 'cancelled')
    return { ...base, action: 'schedule', detail: 'cancelled before: schedule it again' };
  if (isFinished(t)) return { ...base, action: 'none', detail: t.status };
  // Landed is what staging's trailers say (a squashed branch is never an ancestor of staging). A
  // task caught mid-merge is verified and merged again (idempotent), so its incremental check runs.
  // Recorded as merged only once that check passed (staging's verified tip holds the landing).
  if (f.landing && t.status !== 'merging') {
    if (f.landing.checked)
      return {
        ...base,
        action: 'merged',
        detail: `its verified commit ${f.landing.verified.slice(0, 12)} is already on staging`,
      };
    if (f.worktree.git)
      return {
        ...base,
        action: 'verify',
        detail: 'it landed on staging before its incremental check finished: verify it and run that check',
      };
  }
  if (t.status === 'blocked' || t.status === 'needs_attention') {
    return {
      ...base,
      action: 'wait',
      detail: t.blockedNeeds ? `waits for ${t.blockedNeeds}` : 'waits for a decision',
    };
  }
  const alive = f.session.alive;
  let running = t.status === 'running';
  let attempt = t.attempt;
  // The supervisor writes an attempt's exec spec, starts its session, then journals `task.started`;
  // a crash in between leaves a worker the journal does not know. Record it instead of starting a twin.
  if (f.launched > t.attempt && (t.status === 'ready' || t.status === 'running')) {
    repairs.push({
      kind: 'record-start',
      task: t.id,
      attempt: f.launched,
      alive,
      what: `${t.id}: attempt ${f.launched} was started but never journaled (session ${alive ? 'alive' : 'gone'}): record it`,
    });
    running = true;
    attempt = f.launched;
  }
  if (!running && (t.status === 'pending' || t.status === 'ready')) {
    // A worktree with uncommitted changes is never removed to start afresh.
    if (f.branchTip && f.missingDeps.length > 0 && !(f.worktree.exists && f.worktree.dirty)) {
      repairs.push({
        kind: 'archive',
        task: t.id,
        branch: names.taskBranch(t.id),
        what: `${t.id}: its branch lacks ${f.missingDeps.join(', ')}; keep it as ${names.archiveBranch(t.id, 1)}(-n) and start afresh`,
      });
    }
    return { ...base, action: 'schedule', detail: 'not started yet' };
  }
  const worktreeGone = !f.worktree.git;
  if (alive && !worktreeGone && running) {
    return {
      ...base,
      action: 'watch',
      detail: `worker session alive (pid ${f.session.pid ?? '?'}, attempt ${attempt}), left running`,
    };
  }
  // From here on no worker runs in the worktree: what a killed one left locked is debris.
  if (!worktreeGone) {
    if (!alive)
      repairs.push({
        kind: 'git-locks',
        task: t.id,
        what: `${t.id}: clear git lock files a stopped worker may have left`,
      });
  } else if (f.branchTip)
    repairs.push({
      kind: 'recreate-worktree',
      task: t.id,
      what: `${t.id}: its worktree is gone; recreate it from ${names.taskBranch(t.id)}`,
    });
  const reported = t.report?.status === 'done' || t.status === 'verifying' || t.status === 'merging';
  if (reported && f.branchTip)
    return { ...base, action: 'verify', detail: 'reported done; verify and merge it' };
  return {
    ...base,
    action: 'restart',
    detail: f.branchTip
      ? `no live worker and no report: start attempt ${attempt + 1} in the same worktree, told it was interrupted`
      : `no live worker and its branch is gone: start attempt ${attempt + 1} afresh from staging`,
  };
}

/**
 * The supervisor: drives every task of a run from ready to merged (or failed) and then finishes the
 * run. Deterministic code, event-driven: it wakes on journal appends (workers' status commands and
 * exits) and on its own deadlines, never on a fixed polling interval.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  allFinished,
  dependentsToCancel,
  isFinished,
  isTerminalPhase,
  newlyReady,
  onlyWaitingOnHumans,
  acquireLock,
  pickToStart,
  trace,
  traced,
  type EvidenceSource,
  type FailureCategory,
  type RunEvent,
  type RunEventInput,
  type RunState,
  type TaskState,
  workerLimit,
} from '@orch/core';
import { getAdapter } from '@orch/agents';
import { archiveRef, changedPaths, mergeIntoWorktree } from '@orch/git';
import { sessionName } from '@orch/tmux';
import { diagnoseFailure } from '../review/diagnose.js';
import { verifyTask } from '../verify/index.js';
import { checkLedger } from '../integrate/ledger.js';
import { finishTasks } from './finish.js';
import {
  commandDetail,
  logDetail,
  renderIntegrationFailure,
  renderVerificationFailure,
  verificationDetail,
} from './failures.js';
import { checkoutForVerify, releaseVerifyCheckout } from '../integrate/worktree.js';
import { isTampered } from '../merge/guard.js';
import { MergeQueue, findLanding } from '../merge/queue.js';
import { archiveBranch, requireState, taskBranch, type RunContext } from '../run/context.js';
import { findTask, launchWorker } from '../worker/launch.js';
import { removePlantedGitLinks } from '../worker/sandbox.js';
import { Intake } from './intake.js';
import { startNotifier } from './notify.js';
import { Waiter } from './waiter.js';
import { nextStep } from './watch-step.js';
import { halved, recovered } from './throttle.js';
import { isoAt, sleepOn } from '../ports/clock.js';
import type { WorkerRef } from '../ports/worker-runtime.js';
import type { Restart } from '../run/resume.js';

export interface SupervisorOptions {
  /** Ctrl-C / SIGTERM: stop scheduling, stop workers, keep worktrees and journal. */
  signal?: AbortSignal;
  /** Called for every journal event (plain progress output, tests). */
  onEvent?: (ev: RunEvent, state: RunState) => void;
  /** Leave staging for the user instead of promoting it. */
  noPromote?: boolean;
  /** Tasks a resume hands over, with how to take each of them. */
  restarts?: Map<string, Restart>;
}

type WorkerOutcome =
  | { kind: 'done'; evidence: string }
  | {
      kind: 'failed';
      category: FailureCategory;
      reason: string;
      report?: string;
      detail?: string;
      source: EvidenceSource;
    }
  | { kind: 'blocked'; needs?: string; reason: string }
  | { kind: 'paused'; on: string }
  | { kind: 'rate_limit'; message: string; resetAt?: string }
  | { kind: 'stopped' };

interface RetryInfo {
  category: string;
  reason: string;
  report?: string;
}

/** `report` is what the retry prompt and the escalation report say; `detail` its few-line form. */
type Failure = RetryInfo & { category: FailureCategory; source: EvidenceSource; detail?: string };

const DONE_GRACE_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const EXIT_EVENT_GRACE_MS = 1_500;
/** A failure's report in the journal: enough for the escalation report and `orch state status`. */
const MAX_REPORT_CHARS = 8_000;

export class Supervisor {
  private readonly waiter: Waiter;
  private readonly merges: MergeQueue;
  /** The task drivers in flight, by task id. */
  private readonly driving = new Map<string, Promise<void>>();
  private readonly exits = new Map<string, Extract<RunEvent, { type: 'task.exited' }>>();
  private readonly stop = new AbortController();
  /** A security stop (staging moved by someone else): the run ends with this error. */
  private fatal: Error | undefined;
  /** Workers' reports reach the journal only through here. */
  private readonly intake: Intake;

  constructor(
    private readonly ctx: RunContext,
    private readonly opts: SupervisorOptions = {},
  ) {
    this.waiter = new Waiter(ctx.clock);
    this.merges = new MergeQueue(ctx);
    opts.signal?.addEventListener('abort', () => this.stop.abort());
    this.intake = new Intake({
      runDir: ctx.paths.dir,
      state: () => this.state,
      append: (ev) => ctx.journal.append(ev),
      launched: ctx.launched,
    });
  }

  private get state(): RunState {
    return requireState(this.ctx);
  }

  private async emit(ev: RunEventInput): Promise<void> {
    await this.ctx.journal.append(ev);
  }

  private onEvents(events: RunEvent[]): void {
    for (const ev of events) {
      // Reports that arrived before their attempt's `task.started` was journaled wait for it.
      if (ev.type === 'task.started') this.intake.poke();
      if (ev.type === 'task.exited')
        this.exits.set(`${ev.task}#${ev.attempt ?? this.state.tasks[ev.task]?.attempt}`, ev);
      this.opts.onEvent?.(ev, this.state);
    }
    this.waiter.notify();
  }

  /** Runs until the run finishes or the supervisor is stopped; returns the final state. */
  async run(): Promise<RunState> {
    const lock = await acquireLock(this.ctx.paths.supervisorLock, {});
    const journal = this.ctx.journal;
    const unsubscribe = journal.subscribe((evs) => this.onEvents(evs));
    const stopNotifier = startNotifier(this.ctx);
    journal.follow();
    try {
      await this.emit({ type: 'supervisor.started', pid: process.pid });
      await this.intake.start();
      if (this.state.phase === 'starting') await this.emit({ type: 'run.phase', phase: 'running' });
      await this.loop().catch((e: unknown) => this.stopFor(e));
      if (this.fatal) {
        if (!isTerminalPhase(this.state.phase))
          await this.emit({ type: 'run.finished', outcome: 'failed', reason: this.fatal.message });
        throw this.fatal;
      }
      return this.state;
    } finally {
      this.intake.close();
      await this.intake.idle();
      unsubscribe();
      await stopNotifier();
      journal.close();
      await journal
        .append({
          type: 'supervisor.stopped',
          pid: process.pid,
          reason: this.stop.signal.aborted && !isTerminalPhase(this.state.phase) ? 'interrupted' : 'finished',
        })
        .catch(traced('supervisor.stopped'));
      await lock.release();
    }
  }

  private async loop(): Promise<void> {
    const restarts = this.opts.restarts ?? new Map();
    // Tasks a previous supervisor left mid-way (resume) are driven again first.
    for (const [id, how] of restarts) this.drive(id, how);
    while (!this.stop.signal.aborted) {
      for (const id of newlyReady(this.state)) await this.emit({ type: 'task.ready', task: id });
      for (const id of pickToStart(this.state, this.ctx.priorities, workerLimit(this.state))) {
        if (!this.driving.has(id)) this.drive(id, { mode: 'schedule' });
      }
      if (this.driving.size === 0 && allFinished(this.state)) {
        if (this.state.phase === 'needs_attention') await this.emit({ type: 'run.phase', phase: 'running' });
        // Integration, review and promotion; a review may add tasks, which the loop then runs.
        if (
          (await finishTasks(this.ctx, {
            noPromote: this.opts.noPromote === true || this.state.noPromote,
          })) === 'done'
        )
          break;
        continue;
      }
      // Every open task waits for a person (a dependency request, a question): say so, so that
      // `orch wait` and the dashboard show it; back to running once someone answered.
      const waiting = onlyWaitingOnHumans(this.state);
      if (waiting && this.state.phase === 'running') {
        await this.emit({
          type: 'run.phase',
          phase: 'needs_attention',
          reason: 'every remaining task waits for a decision (see `orch deps list` and `orch state status`)',
        });
      } else if (!waiting && this.state.phase === 'needs_attention') {
        await this.emit({ type: 'run.phase', phase: 'running' });
      }
      const snapshot = this.state.eventCount;
      const driving = this.driving.size;
      await this.waiter.until(() => this.state.eventCount !== snapshot || this.driving.size !== driving, {
        signal: this.stop.signal,
      });
    }
    if (this.stop.signal.aborted) {
      await this.stopWorkers();
      // Let drivers reach a clean point (a merge in progress finishes and is journaled).
      await Promise.race([Promise.allSettled(this.driving.values()), sleepOn(this.ctx.clock, STOP_GRACE_MS)]);
    }
  }

  /** Tampering stops the whole run (no task is to blame); anything else is rethrown. */
  private stopFor(e: unknown): void {
    if (!isTampered(e)) throw e;
    this.fatal ??= e;
    this.stop.abort();
  }

  private async stopWorkers(): Promise<void> {
    for (const t of Object.values(this.state.tasks)) {
      if (t.session && (t.status === 'running' || t.status === 'verifying')) {
        await this.ctx.workers.kill(t.session).catch(traced('supervisor.stop-worker'));
      }
    }
  }

  private drive(id: string, how: Restart): void {
    const driver = this.driveTask(id, how)
      .catch(async (e: unknown) => {
        if (isTampered(e)) return this.stopFor(e);
        // Errors caused by stopping (sessions killed under a launch) are not the task's fault.
        if (this.stop.signal.aborted) return;
        const reason = e instanceof Error ? e.message : String(e);
        await this.emit({
          type: 'task.failed',
          task: id,
          category: 'agent_failed',
          reason: `orch could not drive this task: ${reason}`,
          final: true,
          evidence: { source: 'supervisor', at: this.now(), detail: reason },
        }).catch(traced('supervisor.drive-failed'));
        await this.cancelDependents(id).catch(traced('supervisor.cancel-dependents'));
      })
      .finally(() => {
        this.driving.delete(id);
        this.waiter.notify();
      });
    this.driving.set(id, driver);
  }

  private maxRetries(): number {
    return this.ctx.config.orchestration.max_retries;
  }

  /** One task from ready to merged or failed for good, retries included. */
  private async driveTask(id: string, how: Restart): Promise<void> {
    let task = this.state.tasks[id] as TaskState;
    // A retry journaled by a supervisor that stopped before starting it keeps its report.
    let retry: RetryInfo | undefined = task.pendingRetry;
    let resumeInterrupted = how.interrupted === true;
    let first: Restart['mode'] | undefined = how.mode;
    while (!this.stop.signal.aborted) {
      task = this.state.tasks[id] as TaskState;
      let outcome: WorkerOutcome;
      const mode = first;
      first = undefined;
      if (mode === 'verify') {
        outcome = { kind: 'done', evidence: 'resumed after the worker reported done' };
      } else if (mode === 'watch') {
        outcome = await this.awaitWorker(id, task.attempt);
      } else if (mode === 'wait') {
        outcome = task.blockedOn
          ? { kind: 'paused', on: task.blockedOn }
          : {
              kind: 'blocked',
              reason: task.lastMessage ?? 'blocked',
              ...(task.blockedNeeds ? { needs: task.blockedNeeds } : {}),
            };
      } else {
        const attempt = task.attempt + 1;
        await launchWorker(this.ctx, id, {
          attempt,
          ...(retry ? { retry } : {}),
          ...(resumeInterrupted ? { interrupted: { progress: task.progress } } : {}),
        });
        resumeInterrupted = false;
        outcome = await this.awaitWorker(id, attempt);
      }
      if (outcome.kind === 'stopped') return;
      if (outcome.kind === 'rate_limit') {
        await this.pauseForLimit(id, outcome);
        continue;
      }
      if (outcome.kind === 'paused') {
        const on = outcome.on;
        const settled = await this.waiter.until(() => isFinished(this.state.tasks[on] as TaskState), {
          signal: this.stop.signal,
        });
        if (!settled) return;
        const st = this.state.tasks[on]?.status;
        await this.emit({
          type: 'task.unblocked',
          task: id,
          reason: st === 'merged' ? `${on} is merged into staging` : `${on} ended ${st}; go on without it`,
        });
        await this.syncWithStaging(id);
        resumeInterrupted = true;
        continue;
      }
      if (outcome.kind === 'blocked') {
        if (this.state.tasks[id]?.status !== 'blocked')
          await this.emit({
            type: 'task.blocked',
            task: id,
            reason: outcome.reason,
            ...(outcome.needs ? { needs: outcome.needs } : {}),
          });
        const unblocked = await this.waitUnblocked(id);
        if (!unblocked) return;
        retry = { category: 'dependency', reason: unblocked };
        await this.syncWithStaging(id);
        continue;
      }
      let failure: Failure;
      if (outcome.kind === 'failed') {
        failure = outcome;
      } else {
        const verdict = await this.verifyAndMerge(id);
        if (verdict === 'merged') return;
        failure = verdict;
      }
      const final = (this.state.tasks[id]?.failures ?? 0) + 1 > this.maxRetries();
      await this.emit({
        type: 'task.failed',
        task: id,
        category: failure.category,
        reason: failure.reason,
        final,
        evidence: { source: failure.source, at: this.now(), detail: failure.category },
        ...(failure.report ? { report: failure.report.slice(-MAX_REPORT_CHARS) } : {}),
        ...(failure.detail ? { detail: failure.detail.slice(-MAX_REPORT_CHARS) } : {}),
      });
      if (final) {
        await this.cancelDependents(id);
        return;
      }
      retry = await this.withDiagnosis(id, failure);
      await this.emit({
        type: 'task.retry',
        task: id,
        attempt: this.state.tasks[id]!.attempt + 1,
        reason: failure.reason,
        category: failure.category,
        ...(retry.report ? { report: retry.report } : {}),
      });
    }
  }

  private async verifyAndMerge(id: string): Promise<'merged' | Failure> {
    const t = this.state.tasks[id] as TaskState;
    const task = findTask(this.ctx, id);
    await this.emit({ type: 'task.verifying', task: id });
    const planted = await removePlantedGitLinks(this.ctx, id, t.worktree as string);
    if (planted.length > 0)
      return {
        category: 'boundary_violation',
        source: 'verification',
        reason: `the worker planted links in git's folders (removed): ${planted.join(', ')}`,
      };
    const reportDir = join(this.ctx.paths.verify, `${id}-${t.attempt}`);
    // One commit is pinned (the worktree's HEAD), verified on its own checkout, journaled with its
    // tree, and exactly it is merged. The diff starts at its merge-base with staging, the task's
    // base even after staging was merged into its branch, so other tasks' changes never count.
    const report = await verifyTask({
      repoRoot: this.ctx.repoRoot,
      worktree: t.worktree as string,
      task,
      plan: this.ctx.plan,
      config: this.ctx.config,
      baseCommit: t.baseCommit as string,
      stagingRef: this.state.stagingCommit,
      taskBranch: { name: taskBranch(this.ctx.run, id), archive: archiveBranch(this.ctx.run, id, t.attempt) },
      checkout: (commit) => checkoutForVerify(this.ctx, id, commit),
      ledger: checkLedger(this.ctx.journal, 'verification', [id]),
      runEnvHash: this.state.envHash,
      depsApproved: false,
      reportDir,
      attempt: t.attempt,
    }).finally(() => releaseVerifyCheckout(this.ctx, id).catch(traced('verify.release-checkout')));
    // Judged on the pinned commit's net diff, never on refs a worker can move.
    if (report.ok && report.boundaries.changed.length === 0) {
      const empty = await this.changedNothing(id);
      if (empty) return empty;
    }
    const reportPath = join(reportDir, 'report.json');
    await this.emit({
      type: 'task.verified',
      task: id,
      ok: report.ok,
      categories: report.categories,
      reportPath,
      headCommit: report.headCommit,
      tree: report.verifiedTree,
    });
    if (!report.ok) {
      return {
        category: report.categories[0] ?? 'test_failed',
        reason: report.summary,
        report: renderVerificationFailure(report),
        detail: verificationDetail(report),
        source: 'verification',
      };
    }
    await this.emit({ type: 'task.merging', task: id });
    const merged = await this.merges.merge(id, t.attempt, {
      commit: report.headCommit,
      tree: report.verifiedTree,
      summary: this.state.tasks[id]?.report?.summary ?? task.description,
    });
    if (merged.ok) {
      await this.emit({
        type: 'task.merged',
        task: id,
        commit: merged.commit,
        stagingBefore: merged.before,
        evidence: {
          source: 'merge',
          at: this.now(),
          detail: merged.already ? 'already contained in staging' : `merged as ${merged.commit.slice(0, 12)}`,
        },
      });
      if (workerLimit(this.state) < this.state.maxWorkers)
        await this.emit({
          type: 'workers.throttled',
          maxWorkers: recovered(this.state),
          reason: `${id} merged: one more worker at once`,
        });
      await this.cleanupMerged(id);
      return 'merged';
    }
    if (merged.category === 'merge_conflict') {
      // Bring staging into the task branch in its own worktree; the conflict is the worker's to resolve.
      const r = await mergeIntoWorktree(
        t.worktree as string,
        this.state.stagingVerified,
        `orch: merge staging into ${id}`,
      );
      const files = r.ok ? merged.files : r.conflicts;
      return {
        category: 'merge_conflict',
        source: 'merge',
        reason: merged.reason,
        report:
          `Staging moved on to ${merged.stagingTip.slice(0, 12)} and now conflicts with your branch in:\n` +
          files.map((f) => `- ${f}`).join('\n') +
          (r.ok
            ? '\nStaging has been merged into your branch; check the result.'
            : '\nStaging has been merged into your worktree with conflict markers: resolve them, then commit.'),
      };
    }
    return this.integrationFailure(id, merged);
  }

  /**
   * The incremental check failed after this task's merge (staging is back without it). The retry
   * must be able to reproduce it: current staging goes into the worktree, as for a conflict, and
   * the prompt names the command, its output and what else was merged since the task's base.
   */
  private async integrationFailure(
    id: string,
    merged: { reason: string; command: string; output: string; logPath: string },
  ): Promise<Failure> {
    const t = this.state.tasks[id] as TaskState;
    // The last verified tip orch journaled, as for a conflict: never the ref, which a worker can move.
    const staging = this.state.stagingVerified;
    const base = (await this.taskBase(id)) ?? (t.baseCommit as string);
    const mergedSince: string[] = [];
    for (const other of this.state.order) {
      const c = this.state.tasks[other]?.mergeCommit;
      if (other === id || !c || (await this.ctx.repo.isAncestor(c, base))) continue;
      if (await this.ctx.repo.isAncestor(c, staging)) mergedSince.push(other);
    }
    const sync = await mergeIntoWorktree(
      t.worktree as string,
      staging,
      `orch: merge staging into ${id}`,
    ).then(
      (r) => (r.ok ? { ok: true as const } : { ok: false as const, conflicts: r.conflicts }),
      (e: unknown) => ({ ok: false as const, error: e instanceof Error ? e.message : String(e) }),
    );
    return {
      category: 'integration_failed',
      source: 'integration',
      reason: merged.reason,
      report: renderIntegrationFailure({ ...merged, mergedSince, sync }),
      detail: commandDetail(merged.command, merged.output),
    };
  }

  /** The task's base: its merge-base with verified staging (which moves when staging is merged into it). */
  private async taskBase(id: string): Promise<string | null> {
    const branch = `refs/heads/${taskBranch(this.ctx.run, id)}`;
    if (!(await this.ctx.repo.tryRevParse(branch))) return null;
    return this.ctx.repo.mergeBase(branch, this.state.stagingVerified);
  }

  /** Whether the task left work behind: a net change since its base, or uncommitted changes. */
  private async leftWork(id: string): Promise<boolean> {
    const t = this.state.tasks[id] as TaskState;
    if (t.worktree && existsSync(t.worktree) && !(await this.ctx.repo.isClean(t.worktree))) return true;
    // The worktree's HEAD, whatever branch it is on: that is the commit verification pins.
    const head =
      t.worktree && existsSync(t.worktree)
        ? (
            await this.ctx.repo.git(['rev-parse', '--verify', '--quiet', 'HEAD'], {
              cwd: t.worktree,
              reject: false,
            })
          ).stdout.trim() || null
        : await this.ctx.repo.tryRevParse(`refs/heads/${taskBranch(this.ctx.run, id)}`);
    const base =
      (head && this.state.stagingCommit
        ? await this.ctx.repo.mergeBase(head, this.state.stagingCommit)
        : null) ?? t.baseCommit;
    if (!head || !base) return false;
    return (await changedPaths(this.ctx.repo, base, head, { perCommit: false })).length > 0;
  }

  /** A task whose work adds up to no change is a failure, not a silent no-op merge (unless allowed). */
  private async changedNothing(id: string): Promise<Failure | undefined> {
    if (findTask(this.ctx, id).allow_empty) return undefined;
    // Landed by a supervisor that stopped before journaling it: the merge queue settles it.
    const tip = this.state.stagingCommit;
    if (tip && (await findLanding(this.ctx, id, tip))) return undefined;
    return {
      category: 'agent_failed',
      source: 'verification',
      reason:
        'the task changed nothing: no change since its base, committed or not (set `allow_empty: true` on a task that only checks)',
    };
  }

  /** The verifier agent's short diagnosis of a failed check, added to the retry prompt when it answers. */
  private async withDiagnosis(id: string, failure: Failure): Promise<RetryInfo> {
    if (failure.source !== 'verification' && failure.source !== 'integration') return failure;
    const report = JSON.stringify({
      category: failure.category,
      reason: failure.reason,
      report: failure.report,
    });
    const diagnosis = await diagnoseFailure(this.ctx, id, report).catch(traced('supervisor.diagnose'));
    if (!diagnosis) return failure;
    return { ...failure, report: `${failure.report ?? ''}\n\nDiagnosis:\n${diagnosis.trim()}` };
  }

  private async cleanupMerged(id: string): Promise<void> {
    const t = this.state.tasks[id];
    if (t?.session) await this.ctx.workers.kill(t.session).catch(traced('merged.kill'));
    if (t?.worktree) await this.ctx.workspaces.release(t.worktree).catch(traced('merged.release'));
    // The verified commit is on staging; anything the branch got after the pin (a late commit) is
    // kept on an archive ref first, so deleting the branch loses nothing.
    const branch = taskBranch(this.ctx.run, id);
    const tip = await this.ctx.repo.tryRevParse(`refs/heads/${branch}`);
    const pinned = t?.verified?.commit;
    if (tip && pinned && !(await this.ctx.repo.isAncestor(tip, pinned)))
      await archiveRef(this.ctx.repo, branch, archiveBranch(this.ctx.run, id, t.attempt));
    await this.ctx.repo.deleteBranch(branch, { force: true }).catch(traced('merged.delete-branch'));
  }

  private async cancelDependents(id: string): Promise<void> {
    for (const dep of dependentsToCancel(this.state, id)) {
      await this.emit({ type: 'task.cancelled', task: dep, reason: `dependency ${id} failed` });
    }
  }

  /**
   * Waits for the worker of one attempt to finish, fail, block, hit a limit or time out. What it
   * observes on its own (the deadline, silence, the pane gone) is journaled before it acts on it.
   */
  private async awaitWorker(id: string, attempt: number): Promise<WorkerOutcome> {
    const task = findTask(this.ctx, id);
    const timeoutSec =
      task.timeout ?? this.ctx.plan.defaults.timeout ?? this.ctx.config.orchestration.task_timeout;
    const idleSec = this.ctx.config.orchestration.idle_timeout;
    const clock = this.ctx.clock;
    const deadline = clock.now() + timeoutSec * 1000;
    const session = sessionName(this.ctx.run, id);
    const key = `${id}#${attempt}`;
    const workers = this.ctx.workers;
    let paneGone = false;
    workers
      .waitForExit(session, { timeoutMs: timeoutSec * 1000 + 60_000 })
      .then(() => {
        paneGone = true;
        this.waiter.notify();
      })
      .catch(traced('worker.wait-exit'));
    const t = (): TaskState => this.state.tasks[id] as TaskState;
    const kill = (): Promise<void> => workers.kill(session).catch(traced('worker.kill'));
    let lastSize = -1;
    let lastGrowth = clock.now();
    while (!this.stop.signal.aborted) {
      const nowMs = clock.now();
      const size = await workers.outputSize(this.workerRef(id));
      if (size !== lastSize) {
        lastSize = size;
        lastGrowth = nowMs;
      }
      const exit = this.exits.get(key);
      const step = nextStep({
        status: t().status,
        ...(t().report ? { report: t().report } : {}),
        ...(t().blockedOn ? { blockedOn: t().blockedOn } : {}),
        exited: exit !== undefined,
        paneGone,
        now: nowMs,
        deadline,
        lastGrowth,
        idleMs: idleSec * 1000,
      });
      switch (step.kind) {
        case 'done':
          if (step.awaitExit) {
            // A pane already gone counts as the exit: its event may predate this supervisor (resume).
            await this.waiter.until(() => this.exits.has(key) || paneGone, {
              timeoutMs: DONE_GRACE_MS,
              signal: this.stop.signal,
            });
            await kill();
          }
          return { kind: 'done', evidence: 'status-command' };
        case 'failed':
          await kill();
          return { kind: 'failed', category: 'agent_failed', reason: step.reason, source: 'status-command' };
        case 'paused':
          await kill();
          return { kind: 'paused', on: step.on };
        case 'blocked':
          await kill();
          return { kind: 'blocked', reason: step.reason, ...(step.needs ? { needs: step.needs } : {}) };
        case 'exited':
          return this.classifyExit(id, exit as Extract<RunEvent, { type: 'task.exited' }>);
        case 'pane_gone': {
          // The wrapper journals the exit itself; wait briefly for that line before asking the runtime.
          const arrived = await this.waiter.until(() => this.exits.has(key) || t().report !== undefined, {
            timeoutMs: EXIT_EVENT_GRACE_MS,
          });
          if (!arrived) {
            const pane = await workers.state(session);
            await this.emit({ type: 'task.pane_gone', task: id, attempt });
            const ev = {
              type: 'task.exited' as const,
              task: id,
              attempt,
              exitCode: pane.exitStatus,
              evidence: {
                source: 'process-exit' as const,
                at: this.now(),
                detail: 'worker session ended without a report',
              },
            };
            await this.emit(ev);
            this.exits.set(key, { ...ev, ts: this.now() });
          }
          continue;
        }
        case 'timed_out':
          await this.emit({ type: 'task.timed_out', task: id, attempt, timeoutSec });
          return this.expire(
            id,
            session,
            `the task ran longer than its timeout of ${timeoutSec} s`,
            'timeout',
          );
        case 'idle':
          await this.emit({ type: 'task.idle', task: id, attempt, idleSec });
          return this.expire(id, session, `no output for ${idleSec} s (idle timeout)`, 'idle-timeout');
        case 'wait': {
          const snapshot = this.state.eventCount;
          await this.waiter.until(() => this.state.eventCount !== snapshot || paneGone, {
            timeoutMs: step.timeoutMs,
            signal: this.stop.signal,
          });
          break;
        }
      }
    }
    return { kind: 'stopped' };
  }

  private workerRef(id: string): WorkerRef {
    const logFile = this.state.tasks[id]?.logPath;
    return { name: sessionName(this.ctx.run, id), ...(logFile ? { logFile } : {}) };
  }

  private now(): string {
    return isoAt(this.ctx.clock);
  }

  private async expire(
    id: string,
    session: string,
    reason: string,
    source: EvidenceSource,
  ): Promise<WorkerOutcome> {
    await this.ctx.workers.kill(session).catch(traced('worker.kill'));
    return {
      kind: 'failed',
      category: 'timeout',
      reason: `${reason}; its log is kept at ${this.state.tasks[id]?.logPath}`,
      source,
    };
  }

  /**
   * A worker ended without `orch task done|fail|block`. What counts as done is the adapter's
   * declared signal: exit 0 for scripts and agents that cannot run orch (process-exit), the agent's
   * own successful result event for the others (result-event); either way only with work left behind.
   */
  private async classifyExit(
    id: string,
    exit: Extract<RunEvent, { type: 'task.exited' }>,
  ): Promise<WorkerOutcome> {
    if (exit.rateLimit) return { kind: 'rate_limit', ...exit.rateLimit };
    const t = this.state.tasks[id] as TaskState;
    const signal = getAdapter(t.agent ?? this.ctx.config.agents.default).done;
    const finished =
      exit.exitCode === 0 &&
      (signal === 'process-exit' ? exit.result?.ok !== false : exit.result?.ok === true);
    const source: EvidenceSource = signal === 'process-exit' ? 'process-exit' : 'agent-result';
    const tail = await this.ctx.workers.outputTail(this.workerRef(id), 30).catch((e: unknown) => {
      trace('worker.tail', e);
      return '';
    });
    const withTail = tail ? { report: `Last lines of its output:\n${tail}`, detail: logDetail(tail) } : {};
    if (finished) {
      if (await this.leftWork(id)) {
        await this.emit({
          type: 'task.reported',
          task: id,
          status: 'done',
          summary:
            exit.result?.summary ?? `exited 0 with work left behind (attempt ${exit.attempt ?? t.attempt})`,
          evidence: { source, at: this.now(), detail: `exit ${exit.exitCode}, done signal ${signal}` },
        });
        return { kind: 'done', evidence: source };
      }
      if (findTask(this.ctx, id).allow_empty) return { kind: 'done', evidence: source };
      return {
        kind: 'failed',
        category: 'agent_failed',
        reason: `the worker exited 0 but changed nothing (no commit and no change since its base)`,
        ...withTail,
        source,
      };
    }
    return {
      kind: 'failed',
      category: 'agent_failed',
      reason:
        exit.result && !exit.result.ok
          ? `the agent ended with an error: ${exit.result.summary ?? `exit ${exit.exitCode ?? 'unknown'}`}`
          : signal === 'result-event' && exit.exitCode === 0
            ? 'the agent exited 0 without its final result event and without `orch task done`'
            : `the worker exited with code ${exit.exitCode ?? 'unknown'}`,
      ...withTail,
      source: exit.evidence.source,
    };
  }

  /** Rate or usage limit: fewer workers, and this task waits for the reset instead of failing. */
  private async pauseForLimit(id: string, limit: { message: string; resetAt?: string }): Promise<void> {
    const clock = this.ctx.clock;
    const resetMs = limit.resetAt ? Date.parse(limit.resetAt) - clock.now() : NaN;
    const waitMs =
      Number.isFinite(resetMs) && resetMs > 0
        ? Math.min(resetMs, 6 * 3600_000)
        : this.ctx.config.orchestration.rate_limit_wait * 1000;
    const until = new Date(clock.now() + waitMs).toISOString();
    await this.emit({
      type: 'workers.throttled',
      maxWorkers: halved(this.state),
      reason: `rate limited (${id}): ${limit.message}`,
      until,
    });
    await this.emit({ type: 'task.blocked', task: id, reason: `rate limited: ${limit.message}`, until });
    await this.waiter.until(() => false, { timeoutMs: waitMs, signal: this.stop.signal });
    if (this.stop.signal.aborted) return;
    await this.emit({ type: 'task.unblocked', task: id, reason: 'limit reset' });
  }

  /** Waits for `orch deps approve|deny` (a task.unblocked event); returns its reason. */
  private async waitUnblocked(id: string): Promise<string | undefined> {
    let reason: string | undefined;
    const seen = this.state.eventCount;
    const ok = await this.waiter.until(
      () => {
        const t = this.state.tasks[id];
        if (t && t.status !== 'blocked' && this.state.eventCount > seen) {
          reason = t.lastMessage ?? 'unblocked';
          return true;
        }
        return false;
      },
      { signal: this.stop.signal },
    );
    return ok ? (reason ?? 'unblocked') : undefined;
  }

  /** Brings the new verified staging tip (e.g. an approved dependency) into a task's worktree. */
  private async syncWithStaging(id: string): Promise<void> {
    const t = this.state.tasks[id];
    if (!t?.worktree || !existsSync(t.worktree)) return;
    await mergeIntoWorktree(t.worktree, this.state.stagingVerified, `orch: merge staging into ${id}`);
  }
}

/**
 * The supervisor: drives every task of a run from ready to merged (or failed) and then finishes the
 * run. Deterministic code, event-driven: it wakes on journal appends (workers' status commands and
 * exits) and on its own deadlines, never on a fixed polling interval.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  Lanes,
  isFinished,
  isTerminalPhase,
  acquireLock,
  startSpawnHelper,
  trace,
  traced,
  type EvidenceSource,
  type RunEvent,
  type RunEventInput,
  type RunState,
  type TaskState,
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
import { Intake, handMailOn } from './intake.js';
import { startNotifier } from './notify.js';
import { Waiter } from './waiter.js';
import { nextStep } from './watch-step.js';
import {
  cancelDependents,
  decideRun,
  decideTask,
  type Begin,
  type DecideConfig,
  type Failure,
  type LaunchHint,
  type Pin,
  type RetryInfo,
  type TaskCommand,
  type TaskFact,
  type WaitFor,
  type WorkerOutcome,
} from './decide.js';
import { verifyLanes } from './lanes.js';
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

const DONE_GRACE_MS = 30_000;
const STOP_GRACE_MS = 10_000;

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
  /** How requeued tasks start their next attempt (a retry's prompt, an interrupted attempt). */
  private readonly hints = new Map<string, LaunchHint>();
  private driversEnded = 0;
  /** Verifications at once, beside the workers. */
  private readonly verifyLane: Lanes;

  constructor(
    private readonly ctx: RunContext,
    private readonly opts: SupervisorOptions = {},
  ) {
    this.waiter = new Waiter(ctx.clock);
    this.merges = new MergeQueue(ctx);
    this.verifyLane = new Lanes(verifyLanes(ctx.config));
    opts.signal?.addEventListener('abort', () => this.stop.abort());
    this.intake = new Intake({
      runDir: ctx.paths.dir,
      state: () => this.state,
      append: (ev) => ctx.journal.append(ev),
      launched: ctx.launched,
      onMail: (msg) => handMailOn(ctx.workers, this.state, msg, ctx.launched),
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
      if (ev.type === 'task.started') this.intake.poke(ev.task);
      if (ev.type === 'task.exited')
        this.exits.set(`${ev.task}#${ev.attempt ?? this.state.tasks[ev.task]?.attempt}`, ev);
      this.opts.onEvent?.(ev, this.state);
    }
    this.waiter.notify();
  }

  /** Runs until the run finishes or the supervisor is stopped; returns the final state. */
  async run(): Promise<RunState> {
    const lock = await acquireLock(this.ctx.paths.supervisorLock, {});
    // With ORCH_SPAWN_HELPER=1, git and tmux start from a small helper process: forking this one holds its thread.
    const stopSpawnHelper = startSpawnHelper();
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
      stopSpawnHelper();
      await lock.release();
    }
  }

  /** The run's loop: decides (`decideRun`), carries the commands out, and waits for a change. */
  private async loop(): Promise<void> {
    // Tasks a previous supervisor left mid-way (resume) are driven again first.
    for (const [id, how] of this.opts.restarts ?? new Map<string, Restart>()) this.drive(id, beginOf(how));
    while (!this.stop.signal.aborted) {
      const seen = this.version();
      const commands = decideRun(this.state, {
        driving: new Set(this.driving.keys()),
        priorities: this.ctx.priorities,
        hints: this.hints,
      });
      let finished = false;
      for (const cmd of commands) {
        switch (cmd.kind) {
          case 'journal':
            await this.emit(cmd.event);
            break;
          case 'drive':
            this.hints.delete(cmd.task);
            this.drive(cmd.task, cmd.how);
            break;
          case 'finish_run':
            // Integration, review and promotion; a review may add tasks, which the loop then runs.
            finished =
              (await finishTasks(this.ctx, {
                noPromote: this.opts.noPromote === true || this.state.noPromote,
              })) === 'done';
            break;
          case 'wait':
            await this.waiter.until(() => this.version() !== seen, { signal: this.stop.signal });
            break;
        }
      }
      if (finished) break;
    }
    if (this.stop.signal.aborted) {
      await this.stopWorkers();
      // Let drivers reach a clean point (a merge in progress finishes and is journaled).
      await Promise.race([Promise.allSettled(this.driving.values()), sleepOn(this.ctx.clock, STOP_GRACE_MS)]);
    }
  }

  /** Changes when the run state does or a driver ends: what the run's loop waits for. */
  private version(): string {
    return `${this.state.eventCount}:${this.driversEnded}`;
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

  private drive(id: string, how: Begin): void {
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
        for (const cmd of cancelDependents(this.state, id))
          if (cmd.kind === 'journal')
            await this.emit(cmd.event).catch(traced('supervisor.cancel-dependents'));
      })
      .finally(() => {
        this.driving.delete(id);
        this.driversEnded += 1;
        this.waiter.notify();
      });
    this.driving.set(id, driver);
  }

  private decideConfig(): DecideConfig {
    const o = this.ctx.config.orchestration;
    return { maxRetries: o.max_retries, rateLimitWaitSec: o.rate_limit_wait, now: this.ctx.clock.now() };
  }

  /**
   * One task's driver: decides (`decideTask`) from the run state and what its last effect found,
   * carries the commands out, until the task is merged, failed for good, or back in the
   * scheduler's queue for its next attempt.
   */
  private async driveTask(id: string, how: Begin): Promise<void> {
    let fact: TaskFact = { kind: 'begin', how };
    for (;;) {
      let next: TaskFact | undefined;
      for (const cmd of decideTask(this.state, id, fact, this.decideConfig())) {
        if (cmd.kind === 'end') return;
        if (cmd.kind === 'requeue') {
          this.hints.set(id, cmd.hint);
          return;
        }
        next = await this.effect(id, cmd);
      }
      if (!next) return;
      fact = next;
    }
  }

  /** Carries out one command of a task's driver; returns what it found, if the command looks. */
  private async effect(id: string, cmd: TaskCommand): Promise<TaskFact | undefined> {
    const stopped = this.stop.signal.aborted;
    switch (cmd.kind) {
      case 'journal':
        await this.emit(cmd.event);
        return undefined;
      case 'launch': {
        if (stopped) return undefined;
        const launched: LaunchHint = {
          ...(cmd.retry ? { retry: cmd.retry } : {}),
          ...(cmd.interrupted ? { interrupted: true } : {}),
        };
        await launchWorker(this.ctx, id, {
          attempt: cmd.attempt,
          ...(cmd.retry ? { retry: cmd.retry } : {}),
          ...(cmd.interrupted ? { interrupted: { progress: this.state.tasks[id]?.progress ?? [] } } : {}),
        });
        return { kind: 'worker', outcome: await this.awaitWorker(id, cmd.attempt), launched };
      }
      case 'watch': {
        if (stopped) return undefined;
        const pending = this.state.tasks[id]?.pendingRetry;
        const outcome = await this.awaitWorker(id, cmd.attempt);
        return { kind: 'worker', outcome, launched: pending ? { retry: pending } : {} };
      }
      case 'verify': {
        if (stopped) return undefined;
        const result = await this.verify(id);
        return 'commit' in result ? { kind: 'verified', pin: result } : { kind: 'checked', result };
      }
      case 'merge':
        return { kind: 'checked', result: await this.merge(id, cmd.pin) };
      case 'diagnose': {
        const retry = await this.withDiagnosis(id, cmd.failure);
        return { kind: 'diagnosed', retry, reason: cmd.failure.reason, category: cmd.failure.category };
      }
      case 'wait':
        return this.wait(id, cmd.until);
      case 'sync_staging':
        await this.syncWithStaging(id);
        return undefined;
      case 'cleanup_merged':
        await this.cleanupMerged(id);
        return undefined;
      case 'requeue':
      case 'end':
        return undefined;
    }
  }

  /** Waits for what a driver's `wait` names; nothing when the supervisor stops first. */
  private async wait(id: string, until: WaitFor): Promise<TaskFact | undefined> {
    const signal = this.stop.signal;
    switch (until.kind) {
      case 'time':
        await this.waiter.until(() => false, { timeoutMs: until.ms, signal });
        return signal.aborted ? undefined : { kind: 'limit_over', launched: until.then };
      case 'task_finished': {
        const on = until.task;
        const settled = await this.waiter.until(() => isFinished(this.state.tasks[on] as TaskState), {
          signal,
        });
        if (!settled) return undefined;
        return {
          kind: 'settled',
          on,
          status: (this.state.tasks[on] as TaskState).status,
          launched: until.then,
        };
      }
      case 'unblocked': {
        const reason = await this.waitUnblocked(id);
        return reason === undefined ? undefined : { kind: 'decided', reason };
      }
    }
  }

  /** Verifies the worker's commit in a verify lane; journals `task.verified`; returns the pin. */
  private async verify(id: string): Promise<Pin | Failure> {
    const t = this.state.tasks[id] as TaskState;
    const task = findTask(this.ctx, id);
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
    const report = await this.verifyLane.run(() =>
      verifyTask({
        repoRoot: this.ctx.repoRoot,
        repo: this.ctx.repo,
        worktree: t.worktree as string,
        task,
        plan: this.ctx.plan,
        config: this.ctx.config,
        baseCommit: t.baseCommit as string,
        stagingRef: this.state.stagingCommit,
        taskBranch: {
          name: taskBranch(this.ctx.run, id),
          archive: archiveBranch(this.ctx.run, id, t.attempt),
        },
        checkout: (commit) => checkoutForVerify(this.ctx, id, commit),
        ledger: checkLedger(this.ctx.journal, 'verification', [id]),
        runEnvHash: this.state.envHash,
        depsApproved: false,
        reportDir,
        attempt: t.attempt,
      }).finally(() => releaseVerifyCheckout(this.ctx, id).catch(traced('verify.release-checkout'))),
    );
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
    return { commit: report.headCommit, tree: report.verifiedTree };
  }

  /** Lands exactly the verified commit through the merge queue; journals `task.merged`. */
  private async merge(id: string, pin: Pin): Promise<'merged' | Failure> {
    const t = this.state.tasks[id] as TaskState;
    const merged = await this.merges.merge(id, t.attempt, {
      ...pin,
      summary: t.report?.summary ?? findTask(this.ctx, id).description,
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
          detail: merged.already
            ? 'already contained in staging'
            : `merged as ${(merged.landing ?? merged.commit).slice(0, 12)}`,
        },
      });
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
          // The wrapper drops its `exited` item (with the agent's result) before it ends, so once the
          // pane is gone that item is in the outbox: read it now, however busy the intake is, and
          // judge by the supervisor's own view only when there is none (the wrapper itself died).
          await this.intake.drain().catch(traced('supervisor.drain-exit'));
          if (!this.exits.has(key) && t().report === undefined) {
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

/** How a resume hands a task over, as a driver's beginning. */
function beginOf(how: Restart): Begin {
  switch (how.mode) {
    case 'watch':
    case 'verify':
    case 'wait':
      return { mode: how.mode };
    case 'restart':
      return { mode: 'restart', hint: how.interrupted ? { interrupted: true } : {} };
    default:
      return { mode: 'schedule', ...(how.interrupted ? { hint: { interrupted: true } } : {}) };
  }
}

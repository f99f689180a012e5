/**
 * The merge queue: one merge into staging at a time, by merge-tree + commit-tree + a compare-and-swap
 * ref update (no checkout, no index, the user's files untouched), followed by the incremental check
 * on orch's integration worktree. What lands is exactly the commit verification pinned: squashed
 * (default: one commit, staging as its only parent, trailers naming task, verified commit, attempt
 * and run) or as a merge commit. A failed check moves staging back to its previous tip (again by
 * compare-and-swap), so staging only ever holds merges that passed; a passed one is journaled as
 * `staging.verified`, the tip new worktrees start from.
 */
import { join } from 'node:path';
import { OrchError, landingMessage, type Landing, isOrchError, traced } from '@orch/core';
import { casUpdateRef, landingsOn, mergeIntoRef } from '@orch/git';
import { runCheck } from '../integrate/check.js';
import { detectCommands } from '../integrate/detect.js';
import { integrationWorktree } from '../integrate/worktree.js';
import { requireState, stagingBranch, type RunContext } from '../run/context.js';
import { guardedStagingTip, stagingTampered } from './guard.js';

export type MergeOutcome =
  | { ok: true; commit: string; before: string; already: boolean }
  | { ok: false; category: 'merge_conflict'; reason: string; files: string[]; stagingTip: string }
  | {
      ok: false;
      category: 'integration_failed';
      reason: string;
      /** The check that failed, its output tail and full log. */
      command: string;
      output: string;
      logPath: string;
      stagingTip: string;
    };

/** What verification pinned: the merge lands exactly this commit, whatever the branches say now. */
export interface PinnedCommit {
  commit: string;
  tree: string;
  /** The task's summary, for the squash commit's subject. */
  summary: string;
}

/** How often a merge is redone when staging moved under it with a journaled move (dependencies). */
const RACES = 3;

/** This run's landing of `task` on staging's first-parent history up to `tip`, if any. */
export async function findLanding(ctx: RunContext, task: string, tip: string): Promise<Landing | undefined> {
  const landings = await ctx.repository.landings(tip, requireState(ctx).baseCommit);
  return landings.find((l) => l.run === ctx.run && l.task === task);
}

export class MergeQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private detected: Promise<string | undefined> | undefined;

  constructor(private readonly ctx: RunContext) {}

  /** Queues a merge; merges run one at a time in arrival order. */
  merge(task: string, attempt: number, pinned: PinnedCommit): Promise<MergeOutcome> {
    const next = this.tail.then(() => this.mergeNow(task, attempt, pinned));
    this.tail = next.catch(traced('queue.chain'));
    return next;
  }

  private async mergeNow(task: string, attempt: number, pinned: PinnedCommit): Promise<MergeOutcome> {
    const { ctx } = this;
    const ref = `refs/heads/${stagingBranch(ctx.run)}`;
    for (let i = 1; ; i++) {
      await guardedStagingTip(ctx);
      // A stopped supervisor may have left landings whose incremental check never finished.
      const settled = await this.settle(task);
      if (settled) return settled;
      const before = await guardedStagingTip(ctx);
      // Landed already (a supervisor stopped after the ref update): its trailers say so.
      const landed = await findLanding(ctx, task, before);
      if (landed) return { ok: true, commit: before, before, already: true };
      if ((await ctx.repo.revParse(`${pinned.commit}^{tree}`)) !== pinned.tree) {
        throw new OrchError(
          'ERR_ORCH_VERIFIED_MISMATCH',
          `${pinned.commit} does not have the verified tree ${pinned.tree}`,
        );
      }
      const strategy = ctx.config.merge.strategy;
      const message = landingMessage({
        strategy,
        task,
        summary: pinned.summary,
        verified: pinned.commit,
        attempt,
        run: ctx.run,
      });
      let r: Awaited<ReturnType<typeof mergeIntoRef>>;
      try {
        r = await mergeIntoRef(ctx.repo, {
          target: ref,
          source: pinned.commit,
          message,
          expectedOld: before,
          squash: strategy === 'squash',
        });
      } catch (e) {
        // Moved between the guard and the update: a journaled move is raced again, any other stops.
        if (isOrchError(e, 'ERR_ORCH_REF_MOVED')) {
          if (i < RACES) continue;
          await guardedStagingTip(ctx);
        }
        throw e;
      }
      if (r.status === 'already') return { ok: true, commit: before, before, already: true };
      if (r.status === 'conflict') {
        return {
          ok: false,
          category: 'merge_conflict',
          reason: `merging into staging conflicts in ${r.files.join(', ')}`,
          files: r.files,
          stagingTip: before,
        };
      }
      await ctx.journal.append({
        type: 'staging.moved',
        from: before,
        to: r.commit,
        reason: `merge ${task}`,
      });
      const failed = await this.checkOrRevert(task, attempt, r.commit, before);
      return failed ?? { ok: true, commit: r.commit, before, already: false };
    }
  }

  /**
   * Brings staging back to a verified tip before anything builds on it: while the tip is a landing
   * whose incremental check never passed (a supervisor stopped during it), the check runs now; a
   * failure takes that landing back out. The outcome is returned when the landing was `task`'s.
   */
  private async settle(task: string): Promise<MergeOutcome | undefined> {
    const { ctx } = this;
    let outcome: MergeOutcome | undefined;
    for (;;) {
      const s = requireState(ctx);
      const tip = s.stagingCommit;
      if (tip === s.stagingVerified) return outcome;
      const [landing] = await landingsOn(ctx.repo, tip, `${tip}^1`);
      if (!landing || landing.run !== ctx.run) return outcome; // not a task's landing: nothing to take out
      const parent = await ctx.repo.revParse(`${tip}^1`);
      const failed = await this.checkOrRevert(landing.task, landing.attempt, tip, parent);
      if (!failed) return outcome;
      if (landing.task === task) outcome = failed;
    }
  }

  /**
   * Runs the incremental check on `commit`; on success journals it as verified, on failure moves
   * staging back to `previous` (CAS).
   */
  private async checkOrRevert(task: string, attempt: number, commit: string, previous: string) {
    const { ctx } = this;
    const check = await this.incrementalCheck(task, attempt, commit);
    if (!check || check.ok) {
      await ctx.journal.append({ type: 'staging.verified', commit });
      return undefined;
    }
    const ref = `refs/heads/${stagingBranch(ctx.run)}`;
    try {
      await casUpdateRef(ctx.repo, ref, previous, commit);
    } catch (e) {
      if (isOrchError(e, 'ERR_ORCH_REF_MOVED'))
        throw stagingTampered(ctx.run, commit, await ctx.repo.tryRevParse(ref));
      throw e;
    }
    await ctx.journal.append({
      type: 'staging.moved',
      from: commit,
      to: previous,
      reason: `revert ${task}: the incremental check failed`,
    });
    return {
      ok: false as const,
      category: 'integration_failed' as const,
      reason: `after merging ${task}, \`${check.command}\` failed on staging${check.timedOut ? ' (timed out)' : ''}`,
      command: check.command,
      output: check.tail,
      logPath: check.logPath,
      stagingTip: previous,
    };
  }

  private async incrementalCheck(task: string, attempt: number, commit: string) {
    const { ctx } = this;
    const command = await this.checkCommand(commit);
    if (!command) return undefined;
    const dir = await integrationWorktree(ctx, commit);
    const log = join(ctx.paths.logs, `incremental-${task}-${attempt}.log`);
    return runCheck(command, dir, log, ctx.config.verification.timeout);
  }

  /**
   * The integration command: from config, else detected once per run from the project's files (a
   * run rarely changes its own test setup), so a project without one costs no checkout per merge.
   */
  private async checkCommand(commit: string): Promise<string | undefined> {
    const configured = this.ctx.config.verification.integration_command;
    if (configured) return configured;
    this.detected ??= detectCommands(await integrationWorktree(this.ctx, commit)).then((c) => c.test);
    return this.detected;
  }
}

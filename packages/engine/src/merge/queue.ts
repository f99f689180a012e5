/**
 * The merge queue: one merge into staging at a time, by merge-tree + commit-tree + a compare-and-swap
 * ref update (no checkout, no index, the user's files untouched), followed by the incremental check
 * on orch's integration worktree. A failed check moves staging back to its previous tip (again by
 * compare-and-swap), so staging only ever holds merges that passed.
 */
import { join } from 'node:path';
import { casUpdateRef, mergeIntoRef } from '@orch/git';
import { runCheck } from '../integrate/check.js';
import { detectCommands } from '../integrate/detect.js';
import { integrationWorktree } from '../integrate/worktree.js';
import { stagingBranch, taskBranch, type RunContext } from '../run/context.js';

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

export class MergeQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private detected: Promise<string | undefined> | undefined;

  constructor(private readonly ctx: RunContext) {}

  /** Queues a merge; merges run one at a time in arrival order. */
  merge(task: string, attempt: number): Promise<MergeOutcome> {
    const next = this.tail.then(() => this.mergeNow(task, attempt));
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async mergeNow(task: string, attempt: number): Promise<MergeOutcome> {
    const { ctx } = this;
    const ref = `refs/heads/${stagingBranch(ctx.run)}`;
    const before = await ctx.repo.revParse(ref);
    const message = `orch: merge ${task} (run ${ctx.run})`;
    const r = await mergeIntoRef(ctx.repo, {
      target: ref,
      source: `refs/heads/${taskBranch(ctx.run, task)}`,
      message,
      expectedOld: before,
    });
    if (r.status === 'already') {
      // Merged by a supervisor that stopped before its incremental check finished: check it now,
      // and if it fails while it is still the tip, take it back out.
      const subject = (await ctx.repo.git(['log', '-1', '--format=%s', before])).stdout.trim();
      if (subject === message) {
        const parent = await ctx.repo.revParse(`${before}^1`);
        const failed = await this.checkOrRevert(task, attempt, before, parent);
        if (failed) return failed;
      }
      return { ok: true, commit: before, before, already: true };
    }
    if (r.status === 'conflict') {
      return {
        ok: false,
        category: 'merge_conflict',
        reason: `merging into staging conflicts in ${r.files.join(', ')}`,
        files: r.files,
        stagingTip: before,
      };
    }
    await ctx.journal.append({ type: 'staging.moved', from: before, to: r.commit, reason: `merge ${task}` });
    const failed = await this.checkOrRevert(task, attempt, r.commit, before);
    return failed ?? { ok: true, commit: r.commit, before, already: false };
  }

  /** Runs the incremental check on `commit`; on failure moves staging back to `previous` (CAS). */
  private async checkOrRevert(task: string, attempt: number, commit: string, previous: string) {
    const { ctx } = this;
    const check = await this.incrementalCheck(task, attempt, commit);
    if (!check || check.ok) return undefined;
    await casUpdateRef(ctx.repo, `refs/heads/${stagingBranch(ctx.run)}`, previous, commit);
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

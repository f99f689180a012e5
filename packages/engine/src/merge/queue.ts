/**
 * The merge queue: lands verified tasks on staging in batches. The tasks waiting when a batch
 * starts (up to MAX_BATCH, in priority order) each get their own landing commit, made by
 * merge-tree + commit-tree as a chain on staging's first-parent line (no checkout, no index, the
 * user's files untouched); ONE incremental check runs on the chain's tip on orch's integration
 * worktree, and only a tip whose check passed is published, by one compare-and-swap of the ref
 * (`staging.moved`, then `staging.verified`: the tip new worktrees start from). A failed check is
 * bisected: the first half is checked on its own and lands when it passes, the rest is retried on
 * top; a single landing whose check fails is the culprit and gets the check's output. What lands
 * is exactly the commit verification pinned: squashed (default: one commit, the previous landing as
 * its only parent, trailers naming task, verified commit, attempt and run) or as a merge commit.
 * Exactly once: a task whose landing is on staging already (trailers) is not landed again.
 * `merge(...)` stays per task; the supervisor does not know about batches.
 */
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { OrchError, isOrchError, landingMessage, type Landing } from '@orch/core';
import { runCheck, type CheckResult } from '../integrate/check.js';
import { detectCommandsAt } from '../integrate/detect.js';
import { passedOn, recordPass } from '../integrate/ledger.js';
import { integrationWorktree } from '../integrate/worktree.js';
import { requireState, stagingBranch, type RunContext } from '../run/context.js';
import { guardedStagingTip, stagingTampered } from './guard.js';

export type MergeOutcome =
  | {
      ok: true;
      /** The staging tip that holds the task once its batch is done. */
      commit: string;
      /** Staging's tip before the batch. */
      before: string;
      already: boolean;
      /** The task's own landing commit on staging's first-parent line (absent when already there). */
      landing?: string;
    }
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

/** How often a batch is redone when staging moved under it with a journaled move (dependencies). */
const RACES = 3;

/** The most tasks merged together: a failure costs about log2 of this many more checks. */
export const MAX_BATCH = 8;

/** This run's landing of `task` on staging's first-parent history up to `tip`, if any. */
export async function findLanding(ctx: RunContext, task: string, tip: string): Promise<Landing | undefined> {
  return (await runLandings(ctx, tip)).get(task);
}

/** This run's landings on staging's first-parent history up to `tip`, by task. */
async function runLandings(ctx: RunContext, tip: string): Promise<Map<string, Landing>> {
  const landings = await ctx.repository.landings(tip, requireState(ctx).baseCommit);
  const byTask = new Map<string, Landing>();
  for (const l of landings) if (l.run === ctx.run && !byTask.has(l.task)) byTask.set(l.task, l);
  return byTask;
}

interface Waiting {
  task: string;
  attempt: number;
  pinned: PinnedCommit;
  resolve: (o: MergeOutcome) => void;
  reject: (e: unknown) => void;
}

/** A task's landing commit in a chain being built. */
interface Link {
  w: Waiting;
  commit: string;
}

/** One batch while it runs: what each task came to, and the figures journaled at its end. */
interface Batch {
  before: string;
  outcomes: Map<Waiting, MergeOutcome>;
  errors: Map<Waiting, unknown>;
  landed: string[];
  checks: number;
  /** Failed checks of this batch by tree: a rebuilt chain with the same tree is not checked again. */
  failed: Map<string, CheckResult>;
}

export class MergeQueue {
  private waiting: Waiting[] = [];
  private draining = false;
  private detected: Promise<string | undefined> | undefined;

  constructor(private readonly ctx: RunContext) {}

  /** Queues a merge; resolves with this task's own outcome once its batch is done. */
  merge(task: string, attempt: number, pinned: PinnedCommit): Promise<MergeOutcome> {
    return new Promise<MergeOutcome>((resolve, reject) => {
      this.waiting.push({ task, attempt, pinned, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        void this.drain();
      }
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      // Merges asked for in the same turn (tasks verified together) join one batch.
      await nextTurn();
      const batch = this.take();
      if (batch.length === 0) {
        this.draining = false;
        return;
      }
      // An unexpected failure still answers every task of the batch (a settled one keeps its answer).
      await this.runBatch(batch).catch((e: unknown) => {
        for (const w of batch) w.reject(e);
      });
    }
  }

  /** The next batch: the waiting tasks by priority (longest remaining path first), each task once. */
  private take(): Waiting[] {
    const prio = this.ctx.priorities;
    const order = this.waiting
      .map((w, i) => ({ w, i }))
      .sort((a, b) => (prio.get(b.w.task) ?? 0) - (prio.get(a.w.task) ?? 0) || a.i - b.i);
    const batch: Waiting[] = [];
    const names = new Set<string>();
    for (const { w } of order) {
      // A task asked twice waits for the next batch, which finds it landed.
      if (batch.length >= MAX_BATCH || names.has(w.task)) continue;
      names.add(w.task);
      batch.push(w);
    }
    this.waiting = this.waiting.filter((w) => !batch.includes(w));
    return batch;
  }

  private async runBatch(entries: Waiting[]): Promise<void> {
    const { ctx } = this;
    const batch: Batch = {
      before: requireState(ctx).stagingCommit,
      outcomes: new Map(),
      errors: new Map(),
      landed: [],
      checks: 0,
      failed: new Map(),
    };
    let error: unknown;
    try {
      for (let i = 1; ; i++) {
        const { open, tip } = await this.prepare(entries, batch);
        try {
          await this.land(open, tip, batch);
          break;
        } catch (e) {
          // Moved between the guard and the update: a journaled move is raced again, any other stops.
          if (isOrchError(e, 'ERR_ORCH_REF_MOVED')) {
            if (i < RACES) continue;
            await guardedStagingTip(ctx);
          }
          throw e;
        }
      }
    } catch (e) {
      error = e;
    }
    const tip = requireState(ctx).stagingCommit;
    if (error === undefined) {
      await ctx.journal.append({
        type: 'merge.batch',
        tasks: entries.map((w) => w.task),
        landed: batch.landed,
        tip,
        checks: batch.checks,
        ok: entries.every((w) => batch.outcomes.get(w)?.ok === true),
      });
    }
    // Every task of the batch learns its outcome at once, when staging holds all that landed.
    for (const w of entries) {
      const o = batch.outcomes.get(w);
      if (o) w.resolve(o.ok ? { ...o, commit: tip } : o);
      else w.reject(batch.errors.get(w) ?? error);
    }
  }

  /**
   * Staging checked and settled, then the batch's tasks that are still open: those landed already
   * (a supervisor stopped after the ref update: their trailers say so) are done.
   */
  private async prepare(entries: Waiting[], batch: Batch): Promise<{ open: Waiting[]; tip: string }> {
    const { ctx } = this;
    await guardedStagingTip(ctx);
    // A stopped supervisor may have left landings whose incremental check never finished.
    const settled = await this.settle();
    const before = await guardedStagingTip(ctx);
    if (batch.landed.length === 0) batch.before = before;
    const landed = await runLandings(ctx, before);
    const open: Waiting[] = [];
    for (const w of entries) {
      if (batch.outcomes.has(w) || batch.errors.has(w)) continue;
      const failed = settled.get(w.task);
      if (failed) batch.outcomes.set(w, failed);
      else if (landed.has(w.task)) batch.outcomes.set(w, { ok: true, commit: before, before, already: true });
      else if ((await ctx.repository.revParse(`${w.pinned.commit}^{tree}`)) !== w.pinned.tree) {
        batch.errors.set(
          w,
          new OrchError(
            'ERR_ORCH_VERIFIED_MISMATCH',
            `${w.pinned.commit} does not have the verified tree ${w.pinned.tree}`,
          ),
        );
      } else open.push(w);
    }
    return { open, tip: before };
  }

  /** Lands what passes of `entries` on `before` (a published staging tip); returns the new tip. */
  private async land(entries: Waiting[], before: string, batch: Batch): Promise<string> {
    if (entries.length === 0) return before;
    const { chain, deferred } = await this.build(entries, before, batch);
    let tip = chain.length > 0 ? await this.landChain(chain, before, batch) : before;
    // Those that conflicted only with a landing of this batch try again on what landed.
    if (deferred.length > 0) tip = await this.land(deferred, tip, batch);
    return tip;
  }

  /**
   * The landing commits of `entries` as one chain on `before`. A conflict with `before` itself (or
   * a commit it holds already) is that task's outcome; a conflict with an earlier landing of the
   * chain is deferred: that landing may yet fail its check.
   */
  private async build(
    entries: Waiting[],
    before: string,
    batch: Batch,
  ): Promise<{ chain: Link[]; deferred: Waiting[] }> {
    const { ctx } = this;
    const strategy = ctx.config.merge.strategy;
    const chain: Link[] = [];
    const deferred: Waiting[] = [];
    let onto = before;
    for (const w of entries) {
      const message = landingMessage({
        strategy,
        task: w.task,
        summary: w.pinned.summary,
        verified: w.pinned.commit,
        attempt: w.attempt,
        run: ctx.run,
      });
      const r = await ctx.repository.commitMerge({
        onto,
        source: w.pinned.commit,
        message,
        squash: strategy === 'squash',
      });
      if (r.status === 'made') {
        chain.push({ w, commit: r.commit });
        onto = r.commit;
      } else if (onto !== before) deferred.push(w);
      else if (r.status === 'already')
        batch.outcomes.set(w, { ok: true, commit: before, before, already: true });
      else
        batch.outcomes.set(w, {
          ok: false,
          category: 'merge_conflict',
          reason: `merging into staging conflicts in ${r.files.join(', ')}`,
          files: r.files,
          stagingTip: before,
        });
    }
    return { chain, deferred };
  }

  /** Checks the chain's tip; publishes it when it passed, else bisects. Returns the new tip. */
  private async landChain(chain: Link[], before: string, batch: Batch): Promise<string> {
    const tip = (chain.at(-1) as Link).commit;
    const failed = await this.incrementalCheck(
      tip,
      chain.map((l) => l.w),
      batch,
    );
    if (!failed) {
      await this.publish(chain, before, tip, batch);
      return tip;
    }
    if (chain.length === 1) {
      const { w } = chain[0] as Link;
      batch.outcomes.set(w, integrationFailed(w.task, failed, before));
      return before;
    }
    // The first half's chain is the same commits: checked as it is. The rest goes on whatever of
    // it landed, rebuilt there; when all of it landed, the rest's tree is the failed tip's again.
    const half = Math.ceil(chain.length / 2);
    const tipA = await this.landChain(chain.slice(0, half), before, batch);
    return this.land(
      chain.slice(half).map((l) => l.w),
      tipA,
      batch,
    );
  }

  /** Staging moves to `tip`, whose check passed, by compare-and-swap from `before`; journaled. */
  private async publish(chain: Link[], before: string, tip: string, batch: Batch): Promise<void> {
    const { ctx } = this;
    const tasks = chain.map((l) => l.w.task);
    await ctx.repository.updateRef(stagingRef(ctx.run), tip, before, `orch: merge ${tasks.join(', ')}`);
    await ctx.journal.append({
      type: 'staging.moved',
      from: before,
      to: tip,
      reason: `merge ${tasks.join(', ')}`,
    });
    await ctx.journal.append({ type: 'staging.verified', commit: tip });
    for (const l of chain) {
      batch.outcomes.set(l.w, {
        ok: true,
        commit: tip,
        before: batch.before,
        already: false,
        landing: l.commit,
      });
      batch.landed.push(l.w.task);
    }
  }

  /**
   * Brings staging back to a verified tip before anything builds on it: while the tip is a landing
   * whose incremental check never passed (a supervisor stopped during it), the check runs now (or
   * is found passed in the journal); a failure takes that landing back out. Returns the failures,
   * by task.
   */
  private async settle(): Promise<Map<string, MergeOutcome>> {
    const { ctx } = this;
    const out = new Map<string, MergeOutcome>();
    for (;;) {
      const s = requireState(ctx);
      const tip = s.stagingCommit;
      if (tip === s.stagingVerified) return out;
      const [parent] = await ctx.repository.parents(tip);
      if (parent === undefined) return out;
      const [landing] = await ctx.repository.landings(tip, parent);
      if (!landing || landing.run !== ctx.run) return out; // not a task's landing: nothing to take out
      const failed = await this.checkOrRevert(landing, tip, parent);
      if (!failed) return out;
      out.set(landing.task, failed);
    }
  }

  /** The check of a landing already on staging: verified when it passes, else taken out (CAS). */
  private async checkOrRevert(landing: Landing, commit: string, previous: string) {
    const { ctx } = this;
    const failed = await this.incrementalCheck(commit, [landing], undefined);
    if (!failed) {
      await ctx.journal.append({ type: 'staging.verified', commit });
      return undefined;
    }
    const ref = stagingRef(ctx.run);
    try {
      await ctx.repository.updateRef(ref, previous, commit);
    } catch (e) {
      if (isOrchError(e, 'ERR_ORCH_REF_MOVED'))
        throw stagingTampered(ctx.run, commit, await ctx.repository.tryRevParse(ref));
      throw e;
    }
    await ctx.journal.append({
      type: 'staging.moved',
      from: commit,
      to: previous,
      reason: `revert ${landing.task}: the incremental check failed`,
    });
    return integrationFailed(landing.task, failed, previous);
  }

  /**
   * The incremental check of `commit` (a chain's tip): undefined when it passed, or when it passed
   * on the same tree before (journaled) or there is no command; else the failed check.
   */
  private async incrementalCheck(
    commit: string,
    tasks: { task: string; attempt: number }[],
    batch: Batch | undefined,
  ): Promise<CheckResult | undefined> {
    const { ctx } = this;
    const command = await this.checkCommand(commit);
    if (!command) return undefined;
    const tree = await ctx.repository.revParse(`${commit}^{tree}`);
    if (passedOn(ctx.journal.state, tree, command)) return undefined;
    const known = batch?.failed.get(tree);
    if (known) return known;
    const dir = await integrationWorktree(ctx, commit);
    const [first] = tasks;
    const name =
      tasks.length === 1 && first
        ? `incremental-${first.task}-${first.attempt}.log`
        : `incremental-batch-${commit.slice(0, 12)}.log`;
    const check = await runCheck(command, dir, join(ctx.paths.logs, name), ctx.config.verification.timeout);
    if (batch) batch.checks += 1;
    if (check.ok) {
      await recordPass(
        ctx.journal,
        'merge',
        tasks.map((t) => t.task),
        { command, tree, commit, logPath: check.logPath, durationMs: check.durationMs },
      );
      return undefined;
    }
    batch?.failed.set(tree, check);
    return check;
  }

  /**
   * The integration command: from config, else detected once per run from the project's files (a
   * run rarely changes its own test setup).
   */
  private async checkCommand(commit: string): Promise<string | undefined> {
    const configured = this.ctx.config.verification.integration_command;
    if (configured) return configured;
    // Read from the commit itself: a project without one costs no checkout at all.
    this.detected ??= detectCommandsAt(this.ctx.repository, commit).then((c) => c.test);
    return this.detected;
  }
}

function stagingRef(run: string): string {
  return `refs/heads/${stagingBranch(run)}`;
}

function integrationFailed(task: string, check: CheckResult, stagingTip: string): MergeOutcome {
  return {
    ok: false,
    category: 'integration_failed',
    reason: `after merging ${task}, \`${check.command}\` failed on staging${check.timedOut ? ' (timed out)' : ''}`,
    command: check.command,
    output: check.tail,
    logPath: check.logPath,
    stagingTip,
  };
}

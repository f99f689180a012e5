import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { landingMessage } from '@orch/core';
import { mergeIntoRef, removeWorktree } from '@orch/git';
import { landedTasks, orchBin, tempRepo, type TempRepo } from '@orch/test-utils';
import { explainStagingMove } from '../src/merge/guard.js';
import { MergeQueue } from '../src/merge/queue.js';
import type { Clock } from '../src/ports/clock.js';
import { openRunContext, stagingBranch, worktreePath, type RunContext } from '../src/run/context.js';
import { prepareRun } from '../src/run/start.js';
import { promote } from '../src/supervisor/promote.js';
import { verifyTask } from '../src/verify/index.js';
import { ensureTaskWorktree, findTask } from '../src/worker/launch.js';

const PLAN = `tasks:
  - id: a
    agent: shell
    files_write: [a.txt]
    verification: [{ command: "test -s a.txt" }]
    run: "true"
  - id: b
    agent: shell
    run: echo b > b.txt
    files_write: [b.txt]
    verification: [{ command: "true" }]
  - id: c
    agent: shell
    run: echo c > c.txt
    files_write: [c.txt]
    verification: [{ command: "true" }]
`;

/**
 * Waits take no time: the guard's grace for another orch process's journal line runs out at once
 * (nothing else writes here).
 */
function instantClock(): Clock {
  let t = Date.now();
  return {
    now: () => t,
    setTimer(fn, ms) {
      t += ms;
      setImmediate(fn);
      return () => undefined;
    },
  };
}

/**
 * One repository for the tests that leave the user's branch alone, a run each: a run has its own
 * staging branch and journal, so the tests stay independent without a repository apiece.
 */
let repo: TempRepo;
beforeAll(async () => {
  repo = await tempRepo({ 'tasks.yaml': PLAN });
});
afterAll(async () => {
  await repo.cleanup();
});

async function newRun(): Promise<RunContext> {
  const prepared = await prepareRun({ cwd: repo.root, planPath: 'tasks.yaml', approve: async () => true });
  return openRunContext(repo.root, prepared.run, orchBin({ mustExist: false }), { clock: instantClock() });
}

/** The next run's task worktrees go where this run's were. */
async function freeTaskWorktrees(ctx: RunContext): Promise<void> {
  for (const t of ['a', 'b', 'c']) {
    const path = worktreePath(repo.root, ctx.config, t);
    if (existsSync(path)) await removeWorktree(ctx.repo, path, { force: true });
  }
}

describe('the merge queue', () => {
  let ctx: RunContext;
  let wt: string;

  beforeEach(async () => {
    ctx = await newRun();
    wt = await ensureTaskWorktree(ctx, 'a');
    await writeFile(join(wt, 'a.txt'), 'a\n');
    await execa('git', ['add', '-A'], { cwd: wt });
    await execa('git', ['commit', '-qm', 'a'], { cwd: wt });
  });
  afterEach(async () => {
    await freeTaskWorktrees(ctx);
  });

  const staging = (): string => stagingBranch(ctx.run);

  /** Verifies task a and journals the pin, as the supervisor does. */
  async function verified(): Promise<{ commit: string; tree: string; summary: string }> {
    const t = ctx.journal.state!.tasks.a!;
    const r = await verifyTask({
      repoRoot: repo.root,
      worktree: t.worktree!,
      task: findTask(ctx, 'a'),
      plan: ctx.plan,
      config: ctx.config,
      baseCommit: t.baseCommit!,
      runEnvHash: ctx.journal.state!.envHash,
      reportDir: join(ctx.paths.verify, 'a-test'),
      attempt: 1,
    });
    expect(r.ok).toBe(true);
    await ctx.journal.append({
      type: 'task.verified',
      task: 'a',
      ok: true,
      headCommit: r.headCommit,
      tree: r.verifiedTree,
    });
    return { commit: r.headCommit, tree: r.verifiedTree, summary: 'write a.txt' };
  }

  it('lands a task exactly once as one squash commit of the verified commit, with its trailers', async () => {
    const pin = await verified();
    expect((await verified()).commit).toBe(pin.commit);
    const queue = new MergeQueue(ctx);
    const [first, second] = await Promise.all([queue.merge('a', 1, pin), queue.merge('a', 1, pin)]);
    expect(first).toMatchObject({ ok: true, already: false });
    expect(second).toMatchObject({ ok: true, already: true });
    expect(await queue.merge('a', 1, pin)).toMatchObject({ ok: true, already: true });
    expect(await landedTasks(repo.root, staging())).toEqual(['a']);
    // One parent (the staging tip before), the verified tree, the task's subject and trailers.
    const tip = await repo.git('rev-parse', staging());
    expect(await repo.git('rev-list', '--parents', '-n', '1', tip)).toMatch(/^\S+ \S+$/);
    expect(await repo.git('rev-parse', `${tip}^{tree}`)).toBe(pin.tree);
    expect((await repo.git('log', '-1', '--format=%B', tip)).trim()).toBe(
      `a: write a.txt\n\nOrch-Task: a\nOrch-Verified-Commit: ${pin.commit}\nOrch-Attempt: 1\nOrch-Run: ${ctx.run}`,
    );
    // Its incremental check passed (none configured): new worktrees may start from it.
    expect(ctx.journal.state!.stagingVerified).toBe(tip);
    // The user's checkout never moved: main and its files are as they were.
    expect(await repo.git('log', '--format=%s', 'main')).toBe('initial');
    expect(await repo.git('status', '--porcelain')).toBe('');
  });

  it('merges exactly the pinned commit, not what the task branch holds later', async () => {
    const pin = await verified();
    await writeFile(join(wt, 'late.txt'), 'committed after verification\n');
    await execa('git', ['add', '-A'], { cwd: wt });
    await execa('git', ['commit', '-qm', 'late'], { cwd: wt });
    const r = await new MergeQueue(ctx).merge('a', 1, pin);
    expect(r.ok).toBe(true);
    expect(await repo.git('ls-tree', '--name-only', staging())).not.toMatch(/late\.txt/);
    expect(await repo.git('rev-parse', `${staging()}^{tree}`)).toBe(pin.tree);
  });

  it('with merge.strategy merge, lands a merge commit whose second parent is the verified commit', async () => {
    // The context is immutable: a merge queue over the same ports with another config.
    const merging: RunContext = { ...ctx, config: { ...ctx.config, merge: { strategy: 'merge' } } };
    const pin = await verified();
    const r = await new MergeQueue(merging).merge('a', 1, pin);
    expect(r.ok).toBe(true);
    expect(await repo.git('rev-parse', `${staging()}^2`)).toBe(pin.commit);
    expect(await landedTasks(repo.root, staging())).toEqual(['a']);
  });

  it('after a crash between the ref update and its journal line, resume accepts the landing and the task lands once', async () => {
    const pin = await verified();
    const before = ctx.journal.state!.stagingCommit;
    // What the queue does up to the journal line, then "crashes".
    const m = await mergeIntoRef(ctx.repo, {
      target: `refs/heads/${staging()}`,
      source: pin.commit,
      message: landingMessage({
        strategy: 'squash',
        task: 'a',
        summary: 'x',
        verified: pin.commit,
        attempt: 1,
        run: ctx.run,
      }),
      expectedOld: before,
      squash: true,
    });
    expect(m.status).toBe('merged');
    const landed = await repo.git('rev-parse', staging());
    expect(await explainStagingMove(ctx, landed)).toMatch(/orch's own landing of a/);
    await ctx.journal.append({ type: 'staging.moved', from: before, to: landed, reason: 'reconciled' });
    const r = await new MergeQueue(ctx).merge('a', 1, pin);
    expect(r).toMatchObject({ ok: true, already: true, commit: landed });
    expect(await landedTasks(repo.root, staging())).toEqual(['a']);
    // Its incremental check, which the crash interrupted, ran before the task counted as merged.
    expect(ctx.journal.state!.stagingVerified).toBe(landed);
  });

  it("takes out a landing whose interrupted incremental check fails, and says it is that task's failure", async () => {
    const pin = await verified();
    const before = ctx.journal.state!.stagingCommit;
    const m = await mergeIntoRef(ctx.repo, {
      target: `refs/heads/${staging()}`,
      source: pin.commit,
      message: landingMessage({
        strategy: 'squash',
        task: 'a',
        summary: 'x',
        verified: pin.commit,
        attempt: 1,
        run: ctx.run,
      }),
      expectedOld: before,
      squash: true,
    });
    if (m.status !== 'merged') throw new Error('expected a merge');
    // Journaled, then the supervisor stopped while the incremental check ran.
    await ctx.journal.append({ type: 'staging.moved', from: before, to: m.commit, reason: 'merge a' });
    const failing: RunContext = {
      ...ctx,
      config: { ...ctx.config, verification: { ...ctx.config.verification, integration_command: 'false' } },
    };
    const r = await new MergeQueue(failing).merge('a', 1, pin);
    expect(r).toMatchObject({ ok: false, category: 'integration_failed', stagingTip: before });
    expect(await repo.git('rev-parse', staging())).toBe(before);
    expect(ctx.journal.state!.stagingCommit).toBe(before);
    expect(ctx.journal.state!.stagingVerified).toBe(before);
    expect(await landedTasks(repo.root, staging())).toEqual([]);
  });

  it('resume accepts an unjournaled revert only of a landing whose check never passed', async () => {
    const pin = await verified();
    const before = ctx.journal.state!.stagingCommit;
    const m = await mergeIntoRef(ctx.repo, {
      target: `refs/heads/${staging()}`,
      source: pin.commit,
      message: landingMessage({
        strategy: 'squash',
        task: 'a',
        summary: 'x',
        verified: pin.commit,
        attempt: 1,
        run: ctx.run,
      }),
      expectedOld: before,
      squash: true,
    });
    if (m.status !== 'merged') throw new Error('expected a merge');
    await ctx.journal.append({ type: 'staging.moved', from: before, to: m.commit, reason: 'merge a' });
    // The check failed and staging went back, then the supervisor stopped before journaling that.
    await execa('git', ['update-ref', `refs/heads/${staging()}`, before, m.commit], { cwd: repo.root });
    expect(await explainStagingMove(ctx, before)).toMatch(/the revert of/);
    // Once its check passed, taking it back out is nobody's repair: refused.
    await ctx.journal.append({ type: 'staging.verified', commit: m.commit });
    await expect(explainStagingMove(ctx, before)).rejects.toMatchObject({ code: 'ERR_ORCH_REF_TAMPERED' });
  });

  it('refuses to build on a staging ref someone else moved, and resume does not accept it either', async () => {
    const pin = await verified();
    const before = ctx.journal.state!.stagingCommit;
    // A worker's own commit, put on staging by hand.
    const evil = (
      await execa('git', ['commit-tree', `${before}^{tree}`, '-p', before, '-m', 'evil'], { cwd: repo.root })
    ).stdout.trim();
    await execa('git', ['update-ref', `refs/heads/${staging()}`, evil], { cwd: repo.root });
    const err = await new MergeQueue(ctx).merge('a', 1, pin).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_ORCH_REF_TAMPERED' });
    expect((err as Error).message).toContain(`from ${before}`);
    expect((err as Error).message).toContain(`to ${evil}`);
    expect(await repo.git('rev-parse', staging())).toBe(evil);
    await expect(explainStagingMove(ctx, evil)).rejects.toMatchObject({ code: 'ERR_ORCH_REF_TAMPERED' });
    // A forged landing (orch's trailers) whose tree is not what orch would have made is refused too.
    const wrongTree = (
      await execa(
        'git',
        [
          'commit-tree',
          `${before}^{tree}`,
          '-p',
          before,
          '-m',
          landingMessage({
            strategy: 'squash',
            task: 'a',
            summary: 'x',
            verified: pin.commit,
            attempt: 1,
            run: ctx.run,
          }),
        ],
        { cwd: repo.root },
      )
    ).stdout.trim();
    await expect(explainStagingMove(ctx, wrongTree)).rejects.toMatchObject({ code: 'ERR_ORCH_REF_TAMPERED' });
  });
});

describe('new worktrees', () => {
  let current: RunContext | undefined;
  afterEach(async () => {
    if (current) await freeTaskWorktrees(current);
  });

  it('start from the last staging tip whose incremental check passed, not from a merge still being checked', async () => {
    const ctx = (current = await newRun());
    const verifiedTip = ctx.journal.state!.stagingVerified;
    const wt = await ensureTaskWorktree(ctx, 'a');
    await writeFile(join(wt, 'a.txt'), 'a\n');
    await execa('git', ['add', '-A'], { cwd: wt });
    await execa('git', ['commit', '-qm', 'a'], { cwd: wt });
    // a lands on staging and its incremental check is running: moved, not yet verified.
    const m = await mergeIntoRef(ctx.repo, {
      target: `refs/heads/${stagingBranch(ctx.run)}`,
      source: await repo.git('-C', wt, 'rev-parse', 'HEAD'),
      message: 'a',
      expectedOld: verifiedTip,
      squash: true,
    });
    if (m.status !== 'merged') throw new Error('expected a merge');
    await ctx.journal.append({ type: 'staging.moved', from: verifiedTip, to: m.commit, reason: 'merge a' });
    const b = await ensureTaskWorktree(ctx, 'b');
    expect(ctx.journal.state!.tasks.b!.baseCommit).toBe(verifiedTip);
    expect(await repo.git('-C', b, 'rev-parse', 'HEAD')).toBe(verifiedTip);
    expect(existsSync(join(b, 'a.txt'))).toBe(false);
    // Once the check passed, the next worktree has a's work.
    await ctx.journal.append({ type: 'staging.verified', commit: m.commit });
    const c = await ensureTaskWorktree(ctx, 'c');
    expect(ctx.journal.state!.tasks.c!.baseCommit).toBe(m.commit);
    expect(existsSync(join(c, 'a.txt'))).toBe(true);
  });
});

describe('promotion', () => {
  let repo: TempRepo;
  afterEach(async () => {
    await repo.cleanup();
  });

  it('refuses a staging ref moved by someone else and leaves the base branch alone', async () => {
    repo = await tempRepo({ 'tasks.yaml': PLAN });
    const prepared = await prepareRun({ cwd: repo.root, planPath: 'tasks.yaml', approve: async () => true });
    const ctx = await openRunContext(repo.root, prepared.run, orchBin({ mustExist: false }), {
      clock: instantClock(),
    });
    const main = await repo.git('rev-parse', 'main');
    const tip = ctx.journal.state!.stagingCommit;
    const evil = (
      await execa('git', ['commit-tree', `${tip}^{tree}`, '-p', tip, '-m', 'not orch'], { cwd: repo.root })
    ).stdout.trim();
    await execa('git', ['update-ref', `refs/heads/${stagingBranch(ctx.run)}`, evil], { cwd: repo.root });
    await expect(promote(ctx)).rejects.toMatchObject({ code: 'ERR_ORCH_REF_TAMPERED' });
    expect(await repo.git('rev-parse', 'main')).toBe(main);
    // Put back where orch left it, promotion fast-forwards to exactly the journaled tip.
    await execa('git', ['update-ref', `refs/heads/${stagingBranch(ctx.run)}`, tip], { cwd: repo.root });
    expect(await promote(ctx)).toMatchObject({ ok: true, to: tip });
    expect(await repo.git('rev-parse', 'main')).toBe(tip);
  });
});

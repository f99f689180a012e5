/**
 * The merge queue's batches on real temp repositories: several waiting tasks land together with one
 * incremental check, a failure is bisected, a conflict stays that task's, a journaled move of
 * staging mid-batch is raced again, and a supervisor stopped mid-batch lands every task once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { landingMessage, type RunEvent, type RunEventInput } from '@orch/core';
import { commitFilesOnto } from '@orch/git';
import { landedTasks, orchBin, tempRepo, type TempRepo } from '@orch/test-utils';
import { explainStagingMove } from '../src/merge/guard.js';
import { MergeQueue, type MergeOutcome, type PinnedCommit } from '../src/merge/queue.js';
import type { RunLog } from '../src/ports/run-log.js';
import { openRunContext, stagingBranch, type RunContext } from '../src/run/context.js';
import { prepareRun } from '../src/run/start.js';

/** Six independent tasks; `c` has a dependent, so it has the highest priority. */
const PLAN = `tasks:
${['a', 'b', 'c', 'd', 'e', 'f']
  .map(
    (t) => `  - id: ${t}
    agent: shell
    files_write: [${t}.txt]
    verification: [{ command: "true" }]
    run: "true"
`,
  )
  .join('')}  - id: after-c
    agent: shell
    depends_on: [c]
    files_write: [after-c.txt]
    verification: [{ command: "true" }]
    run: "true"
`;

/** Fails (with a line saying why) when a culprit's file is on the checked tree. */
const CHECK = 'if [ -e bad.txt ]; then echo "bad.txt must not exist"; exit 1; fi; echo ok';

/** One repository for the file, a run per test: a run has its own staging branch and journal. */
let repo: TempRepo;
beforeAll(async () => {
  repo = await tempRepo({ 'tasks.yaml': PLAN });
});
afterAll(async () => {
  await repo.cleanup();
});

async function newRun(command = CHECK): Promise<RunContext> {
  const prepared = await prepareRun({ cwd: repo.root, planPath: 'tasks.yaml', approve: async () => true });
  return withCommand(await openRunContext(repo.root, prepared.run, orchBin({ mustExist: false })), command);
}

function withCommand(ctx: RunContext, command: string): RunContext {
  return {
    ...ctx,
    config: { ...ctx.config, verification: { ...ctx.config.verification, integration_command: command } },
  };
}

/** A task's work as one commit on its own branch from staging, journaled as verified. */
async function pin(ctx: RunContext, task: string, files: Record<string, string>): Promise<PinnedCommit> {
  const branch = `work/${ctx.run}/${task}`;
  await ctx.repo.git(['branch', '-f', branch, ctx.journal.state!.stagingCommit]);
  const c = await commitFilesOnto(ctx.repo, {
    branch,
    files: Object.entries(files).map(([path, content]) => ({ path, content })),
    message: `${task}'s work`,
  });
  const tree = await ctx.repo.revParse(`${c.commit}^{tree}`);
  await ctx.journal.append({ type: 'task.verified', task, ok: true, headCommit: c.commit, tree });
  return { commit: c.commit, tree, summary: `work of ${task}` };
}

async function pins(ctx: RunContext, work: Record<string, Record<string, string>>) {
  const out: Record<string, PinnedCommit> = {};
  for (const [task, files] of Object.entries(work)) out[task] = await pin(ctx, task, files);
  return out;
}

/** Every merge asked for in one turn, as the supervisor does for tasks verified together. */
function mergeAll(
  queue: MergeQueue,
  pinned: Record<string, PinnedCommit>,
): Promise<Record<string, MergeOutcome>> {
  const tasks = Object.keys(pinned);
  return Promise.all(tasks.map((t) => queue.merge(t, 1, pinned[t]!))).then((r) =>
    Object.fromEntries(tasks.map((t, i) => [t, r[i]!])),
  );
}

async function events(ctx: RunContext): Promise<RunEvent[]> {
  return ctx.journal.history();
}

const ofType = <T extends RunEvent['type']>(evs: RunEvent[], type: T) =>
  evs.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

/** Every tip the queue moved staging to had its check pass on its tree first (`others`: moves not the queue's). */
async function everyTipChecked(ctx: RunContext, others: string[] = []): Promise<void> {
  const evs = await events(ctx);
  const passed = new Set(ofType(evs, 'check.passed').map((e) => e.tree));
  for (const m of ofType(evs, 'staging.moved').filter((e) => !others.includes(e.reason))) {
    const tree = await ctx.repo.revParse(`${m.to}^{tree}`);
    expect(passed.has(tree), `staging moved to ${m.to} (${m.reason}) without a passed check`).toBe(true);
  }
}

describe('batched merges', () => {
  it('lands three waiting tasks with one check: a landing each, in priority order, one CAS', async () => {
    const ctx = await newRun();
    const before = ctx.journal.state!.stagingCommit;
    const pinned = await pins(ctx, { a: { 'a.txt': 'a\n' }, b: { 'b.txt': 'b\n' }, c: { 'c.txt': 'c\n' } });
    const r = await mergeAll(new MergeQueue(ctx), pinned);
    const tip = await ctx.repo.revParse(`refs/heads/${stagingBranch(ctx.run)}`);
    for (const t of ['a', 'b', 'c'])
      expect(r[t]).toMatchObject({ ok: true, already: false, commit: tip, before });
    // c first (a task waits for it), then a and b as they came: each its own commit, one parent.
    expect(await landedTasks(ctx.repoRoot, stagingBranch(ctx.run))).toEqual(['c', 'a', 'b']);
    const line = (await ctx.repo.git(['rev-list', '--first-parent', '--parents', `${before}..${tip}`])).stdout
      .trim()
      .split('\n');
    expect(line.map((l) => l.split(' ').length)).toEqual([2, 2, 2]);
    expect(r.b).toMatchObject({ landing: tip });
    const evs = await events(ctx);
    expect(ofType(evs, 'merge.batch')).toEqual([
      expect.objectContaining({ tasks: ['c', 'a', 'b'], landed: ['c', 'a', 'b'], tip, checks: 1, ok: true }),
    ]);
    expect(ofType(evs, 'check.passed')).toEqual([
      expect.objectContaining({ command: CHECK, commit: tip, by: 'merge', tasks: ['c', 'a', 'b'] }),
    ]);
    // One move, from the tip before to the checked tip: the intermediate landings were never a tip.
    expect(ofType(evs, 'staging.moved').map((m) => [m.from, m.to])).toEqual([[before, tip]]);
    expect(ctx.journal.state!.stagingVerified).toBe(tip);
  });

  it('bisects a failed batch: the good ones land, the culprit gets integration_failed with its output', async () => {
    const ctx = await newRun();
    const pinned = await pins(ctx, {
      a: { 'a.txt': 'a\n' },
      b: { 'b.txt': 'b\n', 'bad.txt': 'breaks the check\n' },
      d: { 'd.txt': 'd\n' },
    });
    const r = await mergeAll(new MergeQueue(ctx), pinned);
    expect(r.a).toMatchObject({ ok: true, already: false });
    expect(r.d).toMatchObject({ ok: true, already: false });
    expect(r.b).toMatchObject({ ok: false, category: 'integration_failed', command: CHECK });
    const b = r.b!;
    if (b.ok || b.category !== 'integration_failed') throw new Error('expected b to fail');
    expect(b.output).toContain('bad.txt must not exist');
    expect(b.reason).toMatch(/after merging b/);
    expect(await landedTasks(ctx.repoRoot, stagingBranch(ctx.run))).toEqual(['a', 'd']);
    const tip = await ctx.repo.revParse(`refs/heads/${stagingBranch(ctx.run)}`);
    expect(ctx.journal.state!.stagingVerified).toBe(tip);
    expect(await ctx.repo.tryRevParse(`${tip}:bad.txt`)).toBeNull();
    const [batch] = ofType(await events(ctx), 'merge.batch');
    // a+b+d failed, a+b failed, a passed (b on a is the failed a+b tree again: not rerun), d passed.
    expect(batch).toMatchObject({ tasks: ['a', 'b', 'd'], landed: ['a', 'd'], checks: 4, ok: false });
    await everyTipChecked(ctx);
  });

  it('a conflict inside a batch is only that task’s merge_conflict; the others land', async () => {
    const ctx = await newRun('true');
    const pinned = await pins(ctx, {
      a: { 'a.txt': 'a\n', 'shared.txt': 'from a\n' },
      b: { 'b.txt': 'b\n', 'shared.txt': 'from b\n' },
      d: { 'd.txt': 'd\n' },
    });
    const r = await mergeAll(new MergeQueue(ctx), pinned);
    expect(r.a).toMatchObject({ ok: true });
    expect(r.d).toMatchObject({ ok: true });
    const tip = await ctx.repo.revParse(`refs/heads/${stagingBranch(ctx.run)}`);
    // Judged against what landed (a), not against a landing that might still have failed its check.
    expect(r.b).toMatchObject({ ok: false, category: 'merge_conflict', files: ['shared.txt'] });
    expect(await landedTasks(ctx.repoRoot, stagingBranch(ctx.run))).toEqual(['a', 'd']);
    expect(ctx.journal.state!.stagingVerified).toBe(tip);
  });

  it('staging moved (journaled) between the check and the CAS: the batch is redone on the new tip', async () => {
    const base = await newRun('true');
    const pinned = await pins(base, { a: { 'a.txt': 'a\n' }, b: { 'b.txt': 'b\n' }, d: { 'd.txt': 'd\n' } });
    const moving = movedBeforeCas(base, 1);
    const r = await mergeAll(new MergeQueue(moving.ctx), pinned);
    for (const t of ['a', 'b', 'd']) expect(r[t]).toMatchObject({ ok: true, already: false });
    const tip = await base.repository.revParse(moving.ref);
    expect(await base.repository.isAncestor(moving.foreign()!, tip)).toBe(true);
    expect(await landedTasks(base.repoRoot, stagingBranch(base.run))).toEqual(['a', 'b', 'd']);
    expect(ofType(await events(base), 'merge.batch')).toEqual([
      expect.objectContaining({ landed: ['a', 'b', 'd'], tip, checks: 2, ok: true }),
    ]);
  });

  it('staging moved after part of a bisected batch landed: the rest goes on the new tip', async () => {
    const base = await newRun();
    const pinned = await pins(base, {
      a: { 'a.txt': 'a\n' },
      b: { 'b.txt': 'b\n', 'bad.txt': 'breaks the check\n' },
      d: { 'd.txt': 'd\n' },
    });
    // a lands on its own (first CAS); the move comes before d's (second CAS).
    const moving = movedBeforeCas(base, 2);
    const r = await mergeAll(new MergeQueue(moving.ctx), pinned);
    expect(r.a).toMatchObject({ ok: true, already: false });
    expect(r.b).toMatchObject({ ok: false, category: 'integration_failed' });
    expect(r.d).toMatchObject({ ok: true, already: false });
    const tip = await base.repository.revParse(moving.ref);
    expect(await base.repository.isAncestor(moving.foreign()!, tip)).toBe(true);
    expect(await landedTasks(base.repoRoot, stagingBranch(base.run))).toEqual(['a', 'd']);
    expect(base.journal.state!.stagingVerified).toBe(tip);
    await everyTipChecked(base, ['deps']);
  });
});

/**
 * The run as the merge queue sees it when `orch deps approve` lands its lockfile commit on staging
 * (journaled) just before the queue's `nth` compare-and-swap of it.
 */
function movedBeforeCas(base: RunContext, nth: number) {
  const ref = `refs/heads/${stagingBranch(base.run)}`;
  let calls = 0;
  let foreign: string | undefined;
  const ctx: RunContext = {
    ...base,
    repository: {
      ...base.repository,
      updateRef: async (r, next, expectedOld, message) => {
        if (r === ref && ++calls === nth) {
          const from = base.journal.state!.stagingCommit;
          await base.repo.git(['branch', '-f', `deps/${base.run}`, from]);
          foreign = (
            await commitFilesOnto(base.repo, {
              branch: `deps/${base.run}`,
              files: [{ path: 'lock', content: '1\n' }],
              message: 'deps',
            })
          ).commit;
          await base.repository.updateRef(ref, foreign, from);
          await base.journal.append({ type: 'staging.moved', from, to: foreign, reason: 'deps' });
          await base.journal.append({ type: 'staging.verified', commit: foreign });
        }
        return base.repository.updateRef(r, next, expectedOld, message);
      },
    },
  };
  return { ctx, ref, foreign: () => foreign };
}

/** A journal that "dies" (throws, writes nothing) when asked to append the `nth` event of a type. */
function dyingAt(journal: RunLog, type: RunEventInput['type'], nth = 1): RunLog {
  let seen = 0;
  return {
    get state() {
      return journal.state;
    },
    append: (ev) => {
      if (ev.type === type && ++seen === nth) return Promise.reject(new Error(`killed before ${type}`));
      return journal.append(ev);
    },
    refresh: () => journal.refresh(),
    history: () => journal.history(),
    subscribe: (f) => journal.subscribe(f),
    follow: () => journal.follow(),
    close: () => journal.close(),
    tornTail: () => journal.tornTail(),
    repairTail: () => journal.repairTail(),
  };
}

describe('a supervisor stopped mid-batch', () => {
  it.each([
    ['after the check passed, before the CAS', 'check.passed'],
    ['after the CAS, before its journal line', 'staging.moved'],
    ['after staging moved, before it was journaled verified', 'staging.verified'],
  ] as const)('%s: on resume every task is merged exactly once', async (_, killedAt) => {
    const first = await newRun();
    const pinned = await pins(first, { a: { 'a.txt': 'a\n' }, b: { 'b.txt': 'b\n' }, d: { 'd.txt': 'd\n' } });
    const dying: RunContext = { ...first, journal: dyingAt(first.journal, killedAt) };
    const lost = await mergeAll(new MergeQueue(dying), pinned).catch((e: unknown) => e);
    expect(String(lost)).toContain(`killed before ${killedAt}`);
    // The next supervisor opens the run from disk; resume explains a move orch made, as it does.
    const ctx = withCommand(
      await openRunContext(first.repoRoot, first.run, orchBin({ mustExist: false })),
      CHECK,
    );
    const actual = await ctx.repository.tryRevParse(`refs/heads/${stagingBranch(ctx.run)}`);
    const explained = await explainStagingMove(ctx, actual);
    if (killedAt === 'staging.moved')
      expect(explained).toMatch(/orch's own landing of a \(.*\), b \(.*\), d \(/);
    else expect(explained).toBeUndefined();
    if (explained)
      await ctx.journal.append({
        type: 'staging.moved',
        from: ctx.journal.state!.stagingCommit,
        to: actual!,
        reason: explained,
      });
    const r = await mergeAll(new MergeQueue(ctx), pinned);
    for (const t of ['a', 'b', 'd']) expect(r[t]).toMatchObject({ ok: true });
    expect(await landedTasks(ctx.repoRoot, stagingBranch(ctx.run))).toEqual(['a', 'b', 'd']);
    const tip = await ctx.repository.revParse(`refs/heads/${stagingBranch(ctx.run)}`);
    expect(ctx.journal.state!.stagingVerified).toBe(tip);
    // The check passed once, on the tree it was journaled with: the resumed queue did not run it again.
    const evs = await events(ctx);
    expect(ofType(evs, 'check.passed')).toHaveLength(1);
    expect(ofType(evs, 'merge.batch').at(-1)).toMatchObject({ checks: killedAt === 'check.passed' ? 1 : 0 });
    await everyTipChecked(ctx);
  });

  it('resume refuses a chain on staging with a commit orch would not have made', async () => {
    const ctx = await newRun('true');
    const pinned = await pins(ctx, { a: { 'a.txt': 'a\n' }, b: { 'b.txt': 'b\n' } });
    const before = ctx.journal.state!.stagingCommit;
    const message = (task: string, verified: string): string =>
      landingMessage({ strategy: 'squash', task, summary: task, verified, attempt: 1, run: ctx.run });
    const landingOfA = await ctx.repository.commitMerge({
      onto: before,
      source: pinned.a!.commit,
      message: message('a', pinned.a!.commit),
      squash: true,
    });
    if (landingOfA.status !== 'made') throw new Error('expected a commit');
    // b's trailers on a tree that is not b's merge: forged.
    const forged = (
      await ctx.repo.git([
        'commit-tree',
        `${before}^{tree}`,
        '-p',
        landingOfA.commit,
        '-m',
        message('b', pinned.b!.commit),
      ])
    ).stdout.trim();
    await expect(explainStagingMove(ctx, landingOfA.commit)).resolves.toMatch(/own landing of a/);
    await expect(explainStagingMove(ctx, forged)).rejects.toMatchObject({ code: 'ERR_ORCH_REF_TAMPERED' });
  });
});

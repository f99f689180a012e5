/**
 * Checks run once per tree: a command that passed on a tree is journaled with it (`check.passed`)
 * and not run again there: not by the final integration after the merge queue's check, not by a
 * repeated verification of an identical commit. Another tree runs it again; a failure is rerun.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { commitFilesOnto } from '@orch/git';
import { orchBin, tempRepo, type TempRepo } from '@orch/test-utils';
import { runFinalIntegration } from '../src/integrate/final.js';
import { checkLedger } from '../src/integrate/ledger.js';
import { MergeQueue } from '../src/merge/queue.js';
import { openRunContext, stagingBranch, type RunContext } from '../src/run/context.js';
import { prepareRun } from '../src/run/start.js';
import { verifyTask } from '../src/verify/index.js';
import { ensureTaskWorktree, findTask } from '../src/worker/launch.js';

let repo: TempRepo | undefined;
afterEach(async () => {
  await repo?.cleanup();
  repo = undefined;
});

/** How many times a command ran: each run appends a line to `runs.log` outside the checkouts. */
const counted = (root: string, then: string): string =>
  `echo run >> '${join(root, '.git', 'runs.log')}'; ${then}`;
const runs = async (root: string): Promise<number> =>
  (await readFile(join(root, '.git', 'runs.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;

async function newRun(plan: (root: string) => string): Promise<RunContext> {
  repo = await tempRepo({ 'README.md': '# test\n' });
  await repo.write('tasks.yaml', plan(repo.root));
  await repo.commitAll('plan');
  const prepared = await prepareRun({ cwd: repo.root, planPath: 'tasks.yaml', approve: async () => true });
  return openRunContext(repo.root, prepared.run, orchBin({ mustExist: false }));
}

const PLAN = `tasks:
  - id: a
    agent: shell
    files_write: [a.txt]
    verification: [{ command: "true" }]
    run: "true"
`;

describe('the final integration', () => {
  it('skips a command that passed on the same tree at a merge, and runs it on another tree', async () => {
    const base = await newRun(() => PLAN);
    const command = counted(base.repoRoot, 'test -e a.txt');
    const ctx: RunContext = {
      ...base,
      config: { ...base.config, verification: { ...base.config.verification, integration_command: command } },
    };
    await ctx.repo.git(['branch', 'work-a', ctx.journal.state!.stagingCommit]);
    const a = await commitFilesOnto(ctx.repo, {
      branch: 'work-a',
      files: [{ path: 'a.txt', content: 'a\n' }],
      message: 'a',
    });
    const tree = await ctx.repo.revParse(`${a.commit}^{tree}`);
    await ctx.journal.append({ type: 'task.verified', task: 'a', ok: true, headCommit: a.commit, tree });
    expect(await new MergeQueue(ctx).merge('a', 1, { commit: a.commit, tree, summary: 'a' })).toMatchObject({
      ok: true,
    });
    expect(await runs(ctx.repoRoot)).toBe(1);

    const tip = await ctx.repo.revParse(`refs/heads/${stagingBranch(ctx.run)}`);
    const report = await runFinalIntegration(ctx, tip);
    expect(report.ok).toBe(true);
    expect(await runs(ctx.repoRoot)).toBe(1);
    const [test] = report.checks;
    expect(test).toMatchObject({ name: 'test', ok: true });
    expect(test!.skipped).toBe(`skipped: passed on tree ${tree.slice(0, 12)} at merge of a`);
    expect(report.summary).toContain(`skipped: passed on tree ${tree.slice(0, 12)} at merge of a`);
    expect(await readFile(join(ctx.paths.dir, 'integration.md'), 'utf8')).toContain(
      'skipped: passed on tree',
    );

    // Another tree (a commit on top with one more file): the command runs, and its pass counts next time.
    await ctx.repo.git(['branch', 'later', tip]);
    const later = await commitFilesOnto(ctx.repo, {
      branch: 'later',
      files: [{ path: 'z.txt', content: 'z\n' }],
      message: 'z',
    });
    const again = await runFinalIntegration(ctx, later.commit);
    expect(again.checks[0]).toMatchObject({ ok: true });
    expect(again.checks[0]!.skipped).toBeUndefined();
    expect(await runs(ctx.repoRoot)).toBe(2);
    const third = await runFinalIntegration(ctx, later.commit);
    expect(third.checks[0]!.skipped).toMatch(/at final integration$/);
    expect(await runs(ctx.repoRoot)).toBe(2);
  });
});

describe("a task's verification", () => {
  it('runs a command once per verified commit: an identical commit reuses the pass, a failure or another tree reruns', async () => {
    const ctx = await newRun(
      (root) => `tasks:
  - id: a
    agent: shell
    files_write: [a.txt]
    verification: [{ command: ${JSON.stringify(counted(root, 'test -s a.txt'))} }]
    run: "true"
`,
    );
    const wt = await ensureTaskWorktree(ctx, 'a');
    const commit = async (content: string): Promise<void> => {
      await writeFile(join(wt, 'a.txt'), content);
      await execa('git', ['add', '-A'], { cwd: wt });
      await execa('git', ['commit', '-qm', 'a'], { cwd: wt });
    };
    let n = 0;
    const verify = () =>
      verifyTask({
        repoRoot: ctx.repoRoot,
        worktree: wt,
        task: findTask(ctx, 'a'),
        plan: ctx.plan,
        config: ctx.config,
        baseCommit: ctx.journal.state!.tasks.a!.baseCommit!,
        runEnvHash: ctx.journal.state!.envHash,
        reportDir: join(ctx.paths.verify, `a-${++n}`),
        attempt: 1,
        ledger: checkLedger(ctx.journal, 'verification', ['a']),
      });
    await commit(''); // empty: `test -s` fails
    expect((await verify()).ok).toBe(false);
    expect((await verify()).ok).toBe(false);
    expect(await runs(ctx.repoRoot)).toBe(2);

    await commit('a\n');
    const first = await verify();
    expect(first.ok).toBe(true);
    expect(first.commands[0]!.skipped).toBeUndefined();
    expect(await runs(ctx.repoRoot)).toBe(3);
    const second = await verify();
    expect(second).toMatchObject({ ok: true, headCommit: first.headCommit });
    expect(second.commands[0]).toMatchObject({ ok: true, logPath: first.commands[0]!.logPath });
    expect(second.commands[0]!.skipped).toBe(
      `skipped: passed on tree ${first.verifiedTree.slice(0, 12)} at verification of a`,
    );
    expect(await runs(ctx.repoRoot)).toBe(3);
    const passes = (await ctx.journal.history()).filter((e) => e.type === 'check.passed');
    expect(passes).toEqual([
      expect.objectContaining({ by: 'verification', tree: first.verifiedTree, tasks: ['a'] }),
    ]);
  });
});

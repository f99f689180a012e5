import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { orchBin, tempRepo, type TempRepo } from '@orch/test-utils';
import { MergeQueue } from '../src/merge/queue.js';
import { openRunContext, stagingBranch, type RunContext } from '../src/run/context.js';
import { prepareRun } from '../src/run/start.js';
import { verifyTask } from '../src/verify/index.js';
import { ensureTaskWorktree, findTask } from '../src/worker/launch.js';

const PLAN = `tasks:
  - id: a
    agent: shell
    files_write: [a.txt]
    verification: [{ command: "test -s a.txt" }]
    run: "true"
`;

describe('the merge queue', () => {
  let repo: TempRepo;
  let ctx: RunContext;

  beforeEach(async () => {
    repo = await tempRepo({ 'tasks.yaml': PLAN });
    const prepared = await prepareRun({ cwd: repo.root, planPath: 'tasks.yaml', approve: async () => true });
    ctx = await openRunContext(repo.root, prepared.run, orchBin());
    const wt = await ensureTaskWorktree(ctx, 'a');
    await writeFile(join(wt, 'a.txt'), 'a\n');
    await execa('git', ['add', '-A'], { cwd: wt });
    await execa('git', ['commit', '-qm', 'a'], { cwd: wt });
  });
  afterEach(async () => {
    await repo.cleanup();
  });

  it('lands a task that passes everything exactly once, even when it is verified and merged twice', async () => {
    const t = ctx.journal.state!.tasks.a!;
    const verify = () =>
      verifyTask({
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
    expect((await verify()).ok).toBe(true);
    expect((await verify()).ok).toBe(true);
    const queue = new MergeQueue(ctx);
    const [first, second] = await Promise.all([queue.merge('a', 1), queue.merge('a', 1)]);
    expect(first).toMatchObject({ ok: true, already: false });
    expect(second).toMatchObject({ ok: true, already: true });
    const third = await queue.merge('a', 1);
    expect(third).toMatchObject({ ok: true, already: true });
    const merges = (await repo.git('log', '--first-parent', '--format=%s', stagingBranch(ctx.run)))
      .split('\n')
      .filter((s) => s.startsWith('orch: merge a '));
    expect(merges).toHaveLength(1);
    // The user's checkout never moved: main and its files are as they were.
    expect(await repo.git('log', '--format=%s', 'main')).toBe('initial');
    expect(await repo.git('status', '--porcelain')).toBe('');
  });
});

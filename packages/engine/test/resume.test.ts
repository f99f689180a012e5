/**
 * Resume reconciliation, case by case: a real repository and run journal (from `prepareRun`), the
 * world then changed by hand the way a crash leaves it, and `planResume` / `repairForResume` checked.
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { landingMessage } from '@orch/core';
import { addWorktree } from '@orch/git';
import {
  appendEvent,
  dropWorkerItem,
  ensureRunKey,
  runPaths,
  taskChannelPaths,
  taskToken,
} from '@orch/store';
import { isolatedTmux, tempRepo, type TempRepo } from '@orch/test-utils';
import { planResume, repairForResume } from '../src/run/resume.js';
import { openRunContext, taskBranch } from '../src/run/context.js';
import { prepareRun } from '../src/run/start.js';

const task = (id: string, deps: string[] = []): string => `
  - id: ${id}
    agent: shell
    files_write: [src/${id}.txt]
    depends_on: [${deps.join(', ')}]
    verification: [{ command: "test -s src/${id}.txt" }]
    run: echo ${id} > src/${id}.txt`;

const PLAN = `request: resume cases\ntasks:${task('a')}${task('b', ['a'])}\n`;

describe('planResume and repairForResume', () => {
  let repo: TempRepo;
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;
  let run: string;
  let dir: string;
  const saved = process.env.TMUX_TMPDIR;

  beforeEach(async () => {
    tmux = await isolatedTmux();
    process.env.TMUX_TMPDIR = tmux.env.TMUX_TMPDIR;
    repo = await tempRepo({ 'README.md': '# r\n', 'tasks.yaml': PLAN });
    ({ run } = await prepareRun({ cwd: repo.root, planPath: 'tasks.yaml', approve: async () => true }));
    dir = runPaths(repo.root, run).dir;
  });
  afterEach(async () => {
    await tmux.cleanup();
    process.env.TMUX_TMPDIR = saved;
    await repo.cleanup();
  });

  const staging = (): string => `orch/${run}/staging`;
  const ev = (e: Parameters<typeof appendEvent>[1]): Promise<unknown> => appendEvent(dir, e);
  const journal = async (): Promise<{ type: string; what?: string; task?: string; attempt?: number }[]> =>
    (await readFile(join(dir, 'events.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });

  /** Task `a` with a worktree and one commit on its branch, as a worker leaves it. */
  async function startedA(): Promise<{ path: string; base: string; tip: string }> {
    const base = await repo.git('rev-parse', staging());
    const path = join(repo.root, '.worktrees', 'a');
    await addWorktree(await (await import('@orch/git')).Repo.open(repo.root), {
      path,
      branch: taskBranch(run, 'a'),
      commit: base,
    });
    await mkdir(join(path, 'src'), { recursive: true });
    await writeFile(join(path, 'src', 'a.txt'), 'a\n');
    const g = (...args: string[]): Promise<string> => repo.git('-C', path, ...args);
    await g('add', '-A');
    await g('commit', '-qm', 'a');
    await ev({ type: 'task.ready', task: 'a' });
    await ev({ type: 'task.worktree', task: 'a', path, branch: taskBranch(run, 'a'), baseCommit: base });
    await ev({
      type: 'task.started',
      task: 'a',
      attempt: 1,
      session: 'x',
      agent: 'shell',
      promptPath: 'p',
      logPath: 'l',
    });
    return { path, base, tip: await g('rev-parse', 'HEAD') };
  }

  it('cuts a half-written last journal line and journals the repair', async () => {
    await appendFile(join(dir, 'events.jsonl'), '{"ts":"2026-01-01T00:00:00.000Z","type":"task.rea');
    const { ctx, plan } = await planResume(repo.root, run, 'orch');
    expect(plan.repairs.map((r) => r.kind)).toContain('journal');
    await repairForResume(ctx, plan);
    const text = await readFile(join(dir, 'events.jsonl'), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text).not.toMatch(/task\.rea"?$/m);
    expect((await journal()).some((e) => e.type === 'repair' && /half-written/.test(e.what ?? ''))).toBe(
      true,
    );
  });

  it('records a landed task as merged once its incremental check passed, and removes only landed branches', async () => {
    const { tip } = await startedA();
    // Landed on staging by a supervisor that died before journaling the move.
    const tree = await repo.git('rev-parse', `${tip}^{tree}`);
    await ev({ type: 'task.verified', task: 'a', ok: true, headCommit: tip, tree });
    const before = await repo.git('rev-parse', staging());
    const git = await import('@orch/git');
    await git.mergeIntoRef(await git.Repo.open(repo.root), {
      target: `refs/heads/${staging()}`,
      source: tip,
      message: landingMessage({
        strategy: 'squash',
        task: 'a',
        summary: 'a',
        verified: tip,
        attempt: 1,
        run,
      }),
      expectedOld: before,
      squash: true,
    });
    const first = await planResume(repo.root, run, 'orch');
    expect(first.plan.repairs.map((r) => r.kind)).toContain('staging');
    // Its incremental check never ran: it is verified (and checked) again, not just recorded.
    expect(first.plan.items.find((i) => i.task === 'a')?.action).toBe('verify');
    expect((await repairForResume(first.ctx, first.plan)).get('a')).toEqual({ mode: 'verify' });
    const landed = await repo.git('rev-parse', staging());
    expect(first.ctx.journal.state?.stagingCommit).toBe(landed);
    // Once the check passed (the supervisor stopped again before journaling task.merged), it is.
    await ev({ type: 'staging.verified', commit: landed });
    const { ctx, plan } = await planResume(repo.root, run, 'orch');
    expect(plan.items.find((i) => i.task === 'a')?.action).toBe('merged');
    await repairForResume(ctx, plan);
    expect(ctx.journal.state?.tasks['a']?.status).toBe('merged');
    expect(ctx.journal.state?.tasks['a']?.evidence?.source).toBe('reconcile');
    expect(await repo.git('branch', '--list', taskBranch(run, 'a'))).toBe('');
    expect(existsSync(join(repo.root, '.worktrees', 'a'))).toBe(false);
  });

  it('refuses to resume when staging was moved by anyone but orch (here: to the task branch by hand)', async () => {
    const { tip } = await startedA();
    const before = await repo.git('rev-parse', staging());
    await repo.git('update-ref', `refs/heads/${staging()}`, tip);
    const err = await planResume(repo.root, run, 'orch').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_ORCH_REF_TAMPERED' });
    expect((err as Error).message).toContain(`from ${before}`);
    expect((err as Error).message).toContain(`to ${tip}`);
    expect((await journal()).some((e) => e.type === 'staging.moved')).toBe(false);
  });

  it('recreates a deleted worktree from its branch and verifies a task that reported done', async () => {
    const { path, tip } = await startedA();
    await ev({
      type: 'task.reported',
      task: 'a',
      status: 'done',
      evidence: { source: 'status-command', at: new Date().toISOString() },
    });
    await repo.git('worktree', 'remove', '--force', path).catch(async () => {
      await repo.git('worktree', 'unlock', path);
      await repo.git('worktree', 'remove', '--force', path);
    });
    const { ctx, plan } = await planResume(repo.root, run, 'orch');
    expect(plan.items.find((i) => i.task === 'a')).toMatchObject({ action: 'verify' });
    expect(plan.repairs.map((r) => r.kind)).toContain('recreate-worktree');
    const restarts = await repairForResume(ctx, plan);
    expect(restarts.get('a')).toEqual({ mode: 'verify' });
    expect(await repo.git('-C', path, 'rev-parse', 'HEAD')).toBe(tip);
    expect(await readFile(join(path, 'src', 'a.txt'), 'utf8')).toBe('a\n');
  });

  it("journals a worker's done report the stopped supervisor never took, and verifies the task", async () => {
    await startedA();
    // The worker reported through its outbox after the supervisor had died.
    const token = taskToken(await ensureRunKey(dir), 'a', 1);
    await dropWorkerItem(dir, { task: 'a', attempt: 1, token }, { kind: 'done', summary: 'finished alone' });
    const dry = await planResume(repo.root, run, 'orch');
    expect(dry.plan.items.find((i) => i.task === 'a')?.action).not.toBe('verify');
    expect(await readdir(taskChannelPaths(dir, 'a').outbox.new)).toHaveLength(1);
    const { ctx, plan } = await planResume(repo.root, run, 'orch', { takeReports: true });
    expect(plan.items.find((i) => i.task === 'a')).toMatchObject({ action: 'verify' });
    expect(ctx.journal.state?.tasks['a']?.report).toMatchObject({
      status: 'done',
      summary: 'finished alone',
    });
    expect(await readdir(taskChannelPaths(dir, 'a').outbox.new)).toEqual([]);
  });

  it('takes a done report a worker left while the world was scanned (it ended meanwhile): verify, not restart', async () => {
    await startedA();
    const token = taskToken(await ensureRunKey(dir), 'a', 1);
    const ctx = await openRunContext(repo.root, run, 'orch');
    // The worker reports and ends between the intake's pass and the scan of its worker.
    const workers = Object.create(ctx.workers) as typeof ctx.workers;
    let reported = false;
    workers.state = async (name) => {
      if (!reported) {
        reported = true;
        await dropWorkerItem(dir, { task: 'a', attempt: 1, token }, { kind: 'done', summary: 'just now' });
      }
      return ctx.workers.state(name);
    };
    const { plan } = await planResume(repo.root, run, 'orch', {
      takeReports: true,
      ctx: { ...ctx, workers },
    });
    expect(reported).toBe(true);
    expect(plan.items.find((i) => i.task === 'a')).toMatchObject({ action: 'verify' });
    expect(ctx.journal.state?.tasks['a']?.report).toMatchObject({ status: 'done', summary: 'just now' });
  });

  it('restarts a worker that died without a report, clearing the git locks it left', async () => {
    const { path } = await startedA();
    await appendEvent(dir, { type: 'task.progress', task: 'a', message: 'half way' });
    const gitDir = (await repo.git('-C', path, 'rev-parse', '--absolute-git-dir')).trim();
    await writeFile(join(gitDir, 'index.lock'), '');
    const { ctx, plan } = await planResume(repo.root, run, 'orch');
    expect(plan.items.find((i) => i.task === 'a')?.action).toBe('restart');
    expect(plan.items.find((i) => i.task === 'b')?.action).toBe('schedule');
    const restarts = await repairForResume(ctx, plan);
    expect(restarts.get('a')).toEqual({ mode: 'restart', interrupted: true });
    expect(existsSync(join(gitDir, 'index.lock'))).toBe(false);
    expect((await journal()).some((e) => e.type === 'repair' && /index\.lock/.test(e.what ?? ''))).toBe(true);
    // The commit of the interrupted attempt is still there for the next one.
    expect(await repo.git('-C', path, 'log', '--format=%s', '-1')).toBe('a');
  });

  it('records a launch the journal missed, so the next attempt gets a new number', async () => {
    await startedA();
    const channel = taskChannelPaths(runPaths(repo.root, run).dir, 'a');
    await mkdir(channel.dir, { recursive: true });
    await writeFile(channel.spec(2), '{}');
    const { ctx, plan } = await planResume(repo.root, run, 'orch');
    expect(plan.repairs.find((r) => r.kind === 'record-start')).toMatchObject({
      task: 'a',
      attempt: 2,
      alive: false,
    });
    await repairForResume(ctx, plan);
    expect(ctx.journal.state?.tasks['a']?.attempt).toBe(2);
    expect(plan.items.find((i) => i.task === 'a')?.detail).toMatch(/attempt 3/);
  });

  it('archives a branch that lacks a dependency before starting its task afresh', async () => {
    const { tip } = await startedA();
    // b's branch was cut before a was merged; a is then merged.
    const base = await repo.git('rev-parse', staging());
    await repo.git('branch', taskBranch(run, 'b'), base);
    await repo.git('update-ref', `refs/heads/${staging()}`, tip);
    await ev({
      type: 'task.merged',
      task: 'a',
      commit: tip,
      stagingBefore: base,
      evidence: { source: 'merge', at: new Date().toISOString() },
    });
    const { ctx, plan } = await planResume(repo.root, run, 'orch');
    expect(plan.repairs.find((r) => r.kind === 'archive')).toMatchObject({ task: 'b' });
    // a merged but its worktree and branch are still there: tidied.
    expect(plan.repairs.find((r) => r.kind === 'tidy-merged')).toMatchObject({ task: 'a' });
    await repairForResume(ctx, plan);
    expect(await repo.git('rev-parse', `orch/${run}/archive/b-1`)).toBe(base);
    expect(await repo.git('branch', '--list', taskBranch(run, 'b'))).toBe('');
    expect(await repo.git('branch', '--list', taskBranch(run, 'a'))).toBe('');
  });

  it('changes nothing on a dry run', async () => {
    await startedA();
    await appendFile(join(dir, 'events.jsonl'), '{"half');
    const before = await readFile(join(dir, 'events.jsonl'), 'utf8');
    const { plan } = await planResume(repo.root, run, 'orch');
    expect(plan.items.map((i) => [i.task, i.action])).toEqual([
      ['a', 'restart'],
      ['b', 'schedule'],
    ]);
    expect(await readFile(join(dir, 'events.jsonl'), 'utf8')).toBe(before);
  });
});

/**
 * Resume's three steps on the run's ports alone: the run log in memory, a repository of made-up
 * commits, scripted workers and workspace records. No git, no tmux: `scanWorld` must learn
 * everything through the ports, and `applyRepairs` must act through them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, parsePlan, type RunEventInput } from '@orch/core';
import { runPaths } from '@orch/store';
import { sessionName, type TmuxServer } from '@orch/tmux';
import {
  FakeClock,
  FakeWorkers,
  FakeWorkspaces,
  MemoryRepository,
  MemoryRunLog,
  runStarted,
  shellPlan,
} from '@orch/test-utils';
import { systemClock } from '../src/ports/clock.js';
import { archiveBranch, stagingBranch, taskBranch, type RunContext } from '../src/run/context.js';
import { PlanStore } from '../src/run/plan-store.js';
import { applyRepairs, classify, scanWorld } from '../src/run/resume.js';

const RUN = 'r1';
const BASE = 'base0';
const session = (task: string): string => sessionName(RUN, task);

interface World {
  ctx: RunContext;
  log: MemoryRunLog;
  repo: MemoryRepository;
  workers: FakeWorkers;
  workspaces: FakeWorkspaces;
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A run context of fakes; the supervisor's own tmux pane is reported gone (none runs in a test). */
async function world(
  tasks: { id: string; deps?: string[] }[],
  events: RunEventInput[],
  repo: MemoryRepository,
  workspaces = new FakeWorkspaces(),
): Promise<World> {
  const root = await mkdtemp(join(tmpdir(), 'orch-resume-ports-'));
  dirs.push(root);
  const clock = new FakeClock();
  const log = new MemoryRunLog([], () => clock.now());
  const planned = tasks.map((t) => ({ id: t.id, dependsOn: t.deps ?? [], agent: 'shell', description: '' }));
  await log.append(runStarted(planned, { run: RUN, baseCommit: BASE, repoRoot: root }));
  for (const ev of events) await log.append(ev);
  const plan = parsePlan(
    shellPlan(
      tasks.map((t) => ({
        id: t.id,
        run: 'true',
        files_write: [`${t.id}.txt`],
        ...(t.deps ? { depends_on: t.deps } : {}),
      })),
    ),
    'tasks.yaml',
  );
  const plans = new PlanStore(plan);
  const paths = runPaths(root, RUN);
  const workers = new FakeWorkers(paths.dir);
  const noPane = { exists: false, dead: false, exitStatus: null, exitSignal: null, pid: null };
  const tmux = { paneState: async () => noPane, killSession: async () => undefined } as unknown as TmuxServer;
  const ctx: RunContext = Object.freeze({
    // No local repository here: a path that still needs one fails the test.
    repo: undefined as never,
    repository: repo,
    userCheckout: undefined as never,
    repoRoot: root,
    run: RUN,
    paths,
    plans,
    plan: plans.plan,
    priorities: plans.priorities,
    config: parseConfig('', 'test'),
    tmux,
    workers,
    journal: log,
    workspaces,
    clock: systemClock,
    orchBin: '/orch',
    privateDir: join(root, '.orchestrator'),
    launched: new Map<string, number>(),
  });
  return { ctx, log, repo, workers, workspaces };
}

const started = (task: string, attempt = 1): RunEventInput => ({
  type: 'task.started',
  task,
  attempt,
  session: session(task),
  agent: 'shell',
  promptPath: `/p/${task}`,
  logPath: `/l/${task}`,
});

const worktree = (task: string, path: string): RunEventInput => ({
  type: 'task.worktree',
  task,
  path,
  branch: taskBranch(RUN, task),
  baseCommit: BASE,
});

async function resume(w: World): Promise<{
  plan: ReturnType<typeof classify>;
  restarts: Awaited<ReturnType<typeof applyRepairs>>;
}> {
  const facts = await scanWorld(w.ctx, new Map());
  const plan = classify(w.log.state!, facts, {
    taskBranch: (t) => taskBranch(RUN, t),
    archiveBranch: (t, n) => archiveBranch(RUN, t, n),
  });
  return { plan, restarts: await applyRepairs(w.ctx, plan) };
}

/** Task `a`, started in its workspace `/ws/a` (which holds `locks`); its branch one commit past staging. */
function runningTask(locks: string[]): Promise<World> {
  const repo = new MemoryRepository();
  repo.commit(BASE);
  repo.branch(stagingBranch(RUN), BASE).branch(taskBranch(RUN, 'a'), repo.commit('a1', [BASE]));
  return world(
    [{ id: 'a' }],
    [{ type: 'task.ready', task: 'a' }, worktree('a', '/ws/a'), started('a')],
    repo,
    new FakeWorkspaces().add('/ws/a', { locks }),
  );
}

describe('resume on the ports', () => {
  it('restarts a worker that is gone without a report, after clearing the locks it left in its workspace', async () => {
    const w = await runningTask(['/ws/.git/worktrees/a/index.lock']);
    const { workspaces } = w;

    const { plan, restarts } = await resume(w);

    expect(plan.items).toEqual([expect.objectContaining({ task: 'a', action: 'restart' })]);
    expect(plan.repairs.map((r) => r.kind)).toEqual(['git-locks']);
    expect(restarts.get('a')).toEqual({ mode: 'restart', interrupted: true });
    expect(w.log.ofType('repair').map((e) => e.what)).toEqual([
      'a: removed stale git locks /ws/.git/worktrees/a/index.lock',
    ]);
    expect(workspaces.folders.get('/ws/a')?.locks).toEqual([]);
    expect(workspaces.pruned).toBe(1);
  });

  it('records a task that landed and passed its check as merged, then removes its workspace and landed branch', async () => {
    const repo = new MemoryRepository();
    repo.commit(BASE);
    const verified = repo.commit('a-verified', [BASE]);
    const landed = repo.commit('landing-a', [BASE, verified]);
    repo.branch(stagingBranch(RUN), landed).branch(taskBranch(RUN, 'a'), verified);
    repo.landingsAt.set(landed, [{ commit: landed, task: 'a', verified, attempt: 1, run: RUN }]);
    const workspaces = new FakeWorkspaces().add('/ws/a');
    const w = await world(
      [{ id: 'a' }],
      [
        { type: 'task.ready', task: 'a' },
        worktree('a', '/ws/a'),
        started('a'),
        { type: 'staging.moved', from: BASE, to: landed, reason: 'merge a' },
        { type: 'staging.verified', commit: landed },
      ],
      repo,
      workspaces,
    );

    const { plan, restarts } = await resume(w);

    expect(plan.items).toEqual([expect.objectContaining({ task: 'a', action: 'merged' })]);
    expect(restarts.size).toBe(0);
    expect(w.log.ofType('task.merged')).toEqual([expect.objectContaining({ task: 'a', commit: landed })]);
    expect(w.log.state?.tasks.a?.status).toBe('merged');
    expect(workspaces.removed).toEqual(['/ws/a']);
    expect(repo.refs.has(`refs/heads/${taskBranch(RUN, 'a')}`)).toBe(false);
  });

  it("archives a branch that lacks its dependency's merge before the task starts afresh", async () => {
    const repo = new MemoryRepository();
    repo.commit(BASE);
    const mergeA = repo.commit('merge-a', [BASE]);
    const stale = repo.commit('b-stale', [BASE]);
    repo.branch(stagingBranch(RUN), mergeA).branch(taskBranch(RUN, 'b'), stale);
    const w = await world(
      [{ id: 'a' }, { id: 'b', deps: ['a'] }],
      [
        { type: 'staging.moved', from: BASE, to: mergeA, reason: 'merge a' },
        { type: 'staging.verified', commit: mergeA },
        {
          type: 'task.merged',
          task: 'a',
          commit: mergeA,
          stagingBefore: BASE,
          evidence: { source: 'reconcile', at: '2026-01-01T00:00:00.000Z', detail: 'test' },
        },
      ],
      repo,
    );

    const { plan } = await resume(w);

    expect(plan.repairs).toEqual([expect.objectContaining({ kind: 'archive', task: 'b' })]);
    expect(plan.items.find((i) => i.task === 'b')?.action).toBe('schedule');
    const archive = `refs/heads/${archiveBranch(RUN, 'b', 1)}`;
    expect(repo.refs.get(archive)).toBe(stale);
    expect(repo.refs.has(`refs/heads/${taskBranch(RUN, 'b')}`)).toBe(false);
    expect(w.log.ofType('repair').map((e) => e.what)).toEqual([
      expect.stringContaining(`kept as ${archive}`),
    ]);
  });

  it('watches a live worker again and leaves its workspace alone', async () => {
    const w = await runningTask(['/ws/a.lock']);
    const { workspaces } = w;
    // The worker of attempt 1 is still running (its exec spec names the attempt and its token).
    await w.workers.start({
      name: session('a'),
      cwd: '/ws/a',
      argv: ['node', 'orch', '_exec', await execSpec(w, 'a', 1)],
      env: {},
      logFile: '/l/a',
    });

    const { plan, restarts } = await resume(w);

    expect(plan.items).toEqual([expect.objectContaining({ task: 'a', action: 'watch' })]);
    expect(plan.repairs).toEqual([]);
    expect(restarts.get('a')).toEqual({ mode: 'watch' });
    expect(w.workers.killed).toEqual([]);
    expect(workspaces.folders.get('/ws/a')?.locks).toEqual(['/ws/a.lock']);
  });
});

/** The attempt's exec spec as the fake runtime reads it from the wrapper's argv. */
async function execSpec(w: World, task: string, attempt: number): Promise<string> {
  const { writeFile, mkdir } = await import('node:fs/promises');
  await mkdir(w.ctx.paths.dir, { recursive: true });
  const file = join(w.ctx.paths.dir, `exec-${task}-${attempt}.json`);
  await writeFile(file, JSON.stringify({ task, attempt, token: 't' }));
  return file;
}

/**
 * Resume's three steps on the run's ports alone: the run log in memory, a repository of made-up
 * commits, scripted workers and workspace records. No git, no tmux: `scanWorld` must learn
 * everything through the ports, and `applyRepairs` must act through them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEventInput } from '@orch/core';
import { sessionName } from '@orch/tmux';
import { FakeWorkspaces, MemoryRepository } from '@orch/test-utils';
import { archiveBranch, stagingBranch, taskBranch } from '../src/run/context.js';
import { applyRepairs, classify, scanWorld } from '../src/run/resume.js';
import { BASE, RUN, portsContext, type PortsWorld } from './ports-context.js';

type World = PortsWorld;
const session = (task: string): string => sessionName(RUN, task);

const worlds: World[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.cleanup();
});

async function world(
  tasks: { id: string; deps?: string[] }[],
  events: RunEventInput[],
  repo: MemoryRepository,
  workspaces = new FakeWorkspaces(),
): Promise<World> {
  const w = await portsContext({ tasks, events, repo, workspaces });
  worlds.push(w);
  return w;
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
  await mkdir(w.ctx.paths.dir, { recursive: true });
  const file = join(w.ctx.paths.dir, `exec-${task}-${attempt}.json`);
  await writeFile(file, JSON.stringify({ task, attempt, token: 't' }));
  return file;
}

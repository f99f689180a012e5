#!/usr/bin/env node
// A task's worktree, ready → in place (`node bench/warm.mjs`, part of `pnpm bench`): the engine's
// `GitWorkspaces.ensure` on a generated repository of 5,000 files, for tasks whose dependency is
// verifying, with spare worktrees made ahead of need (a rename and a branch switch) and without
// (a pool of size 0: a new worktree checked out). The same call the supervisor makes on its way
// to starting a worker; the rest of that way (prompt, tmux session) is not in it.
// `--smoke`: 500 files, 3 tasks. `--json`: one JSON line for run-all.mjs.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { assertBuilt, generatedRepo, parseFlags, report, root, spread } from './lib.mjs';

const flags = parseFlags();
const FILES = flags.smoke ? 500 : 5000;
const TASKS = flags.smoke ? 3 : 8;

assertBuilt();
const mod = (p) => import(pathToFileURL(join(root, p)).href);
const { GitWorkspaces } = await mod('packages/engine/dist/worker/workspaces.js');
const { Config, RunEvent, applyEvent } = await mod('packages/core/dist/index.js');
const { Repo, listWorktrees } = await mod('packages/git/dist/index.js');

/** The run log in memory: the journal's schema and reducer, no file. */
function memoryLog() {
  const listeners = new Set();
  const log = {
    state: undefined,
    async append(input) {
      const ev = RunEvent.parse({ ...input, ts: new Date().toISOString() });
      log.state = applyEvent(log.state, ev);
      for (const l of listeners) l([ev]);
      return ev;
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  return log;
}

async function round(spares) {
  const repo = await generatedRepo(FILES, { '.gitignore': '.worktrees/\n' });
  try {
    const head = (await (await Repo.open(repo.dir)).git(['rev-parse', 'HEAD'])).stdout.trim();
    const journal = memoryLog();
    const ids = Array.from({ length: TASKS }, (_, i) => `t${i}`);
    await journal.append({
      type: 'run.started',
      run: 'r1',
      request: 'bench',
      repoRoot: repo.dir,
      planPath: 'tasks.yaml',
      base: 'main',
      baseCommit: head,
      staging: 'orch/r1/staging',
      stagingCommit: head,
      envHash: 'h',
      maxWorkers: TASKS,
      detached: false,
      tasks: [
        { id: 'dep', dependsOn: [], agent: 'shell', description: '' },
        ...ids.map((id) => ({ id, dependsOn: ['dep'], agent: 'shell', description: '' })),
      ],
    });
    await journal.append({ type: 'run.phase', phase: 'running' });
    const git = await Repo.open(repo.dir);
    const ws = new GitWorkspaces({
      repo: git,
      repoRoot: repo.dir,
      config: Config.parse({}),
      run: 'r1',
      journal,
      poolSize: spares ? TASKS : 0,
    });
    await ws.ensure({ task: 'dep' });
    await journal.append({ type: 'task.verifying', task: 'dep' });
    if (spares) {
      // Wait until the spares are made (their index written), as they are while a dependency verifies.
      for (;;) {
        const ready = (await listWorktrees(git)).filter((w) => w.path.includes('_pool-r1-')).length;
        if (ready >= TASKS) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, 1500));
    }
    const times = [];
    for (const id of ids) {
      await journal.append({ type: 'task.ready', task: id });
      const t0 = performance.now();
      await ws.ensure({ task: id });
      times.push(performance.now() - t0);
    }
    await ws.drain();
    return times;
  } finally {
    await repo.cleanup();
  }
}

const cold = await round(false);
const warm = await round(true);
report(
  'worktree ready → in place',
  [
    {
      metric: `\`ensure\` without spares (a new worktree of ${FILES.toLocaleString('en')} files), ${TASKS} tasks, median / worst`,
      measured: spread(cold),
      goal: '',
    },
    {
      metric: 'same with a spare at the tip (rename, branch switch), median / worst',
      measured: spread(warm),
      goal: '',
    },
  ],
  flags,
);

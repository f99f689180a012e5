/**
 * A `RunContext` of in-memory ports for engine tests that need no git and no tmux: the run log in
 * memory, a repository of made-up commits, scripted workers, workspace records, the user's
 * checkouts as records. The local repository is absent (a path that still needs it fails), and
 * there is no supervisor session (a foreground run).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, parsePlan, type RunEventInput } from '@orch/core';
import { runPaths } from '@orch/store';
import { supervisorSessionName } from '@orch/tmux';
import type { MemoryRepository } from '@orch/test-utils';
import {
  FakeClock,
  FakeUserCheckout,
  FakeWorkers,
  FakeWorkspaces,
  MemoryRunLog,
  runStarted,
  shellPlan,
} from '@orch/test-utils';
import { systemClock } from '../src/ports/clock.js';
import type { RunContext } from '../src/run/context.js';
import { PlanStore } from '../src/run/plan-store.js';

export const RUN = 'r1';
export const BASE = 'base0';

export interface PortsWorld {
  ctx: RunContext;
  log: MemoryRunLog;
  repo: MemoryRepository;
  workers: FakeWorkers;
  workspaces: FakeWorkspaces;
  checkout: FakeUserCheckout;
  /** Removes the run folder. */
  cleanup(): Promise<void>;
}

export async function portsContext(opts: {
  tasks: { id: string; deps?: string[] }[];
  events?: RunEventInput[];
  repo: MemoryRepository;
  workspaces?: FakeWorkspaces;
  checkout?: FakeUserCheckout;
}): Promise<PortsWorld> {
  const root = await mkdtemp(join(tmpdir(), 'orch-ports-'));
  const clock = new FakeClock();
  const log = new MemoryRunLog([], () => clock.now());
  const planned = opts.tasks.map((t) => ({
    id: t.id,
    dependsOn: t.deps ?? [],
    agent: 'shell',
    description: '',
  }));
  await log.append(runStarted(planned, { run: RUN, baseCommit: BASE, repoRoot: root }));
  for (const ev of opts.events ?? []) await log.append(ev);
  const plan = parsePlan(
    shellPlan(
      opts.tasks.map((t) => ({
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
  const workspaces = opts.workspaces ?? new FakeWorkspaces();
  const checkout = opts.checkout ?? new FakeUserCheckout();
  const supervisorSession = {
    name: supervisorSessionName(RUN),
    state: async () => ({ exists: false, dead: false }),
    remove: async () => undefined,
    closeOnExit: async () => undefined,
  };
  const ctx: RunContext = Object.freeze({
    repo: undefined as never,
    repository: opts.repo,
    userCheckout: checkout,
    repoRoot: root,
    run: RUN,
    paths,
    plans,
    plan: plans.plan,
    priorities: plans.priorities,
    config: parseConfig('', 'test'),
    supervisorSession,
    workers,
    journal: log,
    workspaces,
    clock: systemClock,
    orchBin: '/orch',
    privateDir: join(root, '.orchestrator'),
    launched: new Map<string, number>(),
  });
  return {
    ctx,
    log,
    repo: opts.repo,
    workers,
    workspaces,
    checkout,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

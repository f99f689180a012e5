/** Synthetic journals for the tests. */
import { RunEvent, type RunEventInput } from '@orch/core';

export const T0 = Date.parse('2025-01-01T10:00:00.000Z');

export function at(seconds: number): string {
  return new Date(T0 + seconds * 1000).toISOString();
}

/** Parses inputs through the schema (defaults filled in) with `ts` at `seconds` after T0. */
export function ev(seconds: number, e: RunEventInput): RunEvent {
  return RunEvent.parse({ ...e, ts: at(seconds) });
}

export function started(ids: string[], deps: Record<string, string[]> = {}): RunEvent {
  return ev(0, {
    type: 'run.started',
    run: 'r-2025',
    request: 'Add a login page with tests',
    repoRoot: '/repo',
    planPath: 'tasks.yaml',
    base: 'main',
    baseCommit: 'a'.repeat(40),
    staging: 'orch/r-2025/staging',
    stagingCommit: 'b'.repeat(40),
    envHash: 'e',
    maxWorkers: 4,
    detached: false,
    tasks: ids.map((id) => ({
      id,
      dependsOn: deps[id] ?? [],
      agent: 'claude',
      model: 'sonnet',
      description: `do ${id}`,
    })),
  });
}

export function startTask(seconds: number, task: string, attempt = 1): RunEvent {
  return ev(seconds, {
    type: 'task.started',
    task,
    attempt,
    session: `orch-${task}`,
    agent: 'claude',
    model: 'sonnet',
    promptPath: `p/${task}.md`,
    logPath: `logs/${task}.log`,
  });
}

/** A run of three tasks at t=100 s: api running with usage, ui merged, docs pending. */
export function sampleRun(): RunEvent[] {
  return [
    started(['api', 'ui', 'docs'], { docs: ['api'] }),
    ev(1, { type: 'run.phase', phase: 'running' }),
    ev(1, { type: 'supervisor.started', pid: 42 }),
    ev(2, { type: 'task.ready', task: 'api' }),
    ev(2, { type: 'task.ready', task: 'ui' }),
    startTask(5, 'api'),
    startTask(5, 'ui'),
    ev(30, {
      type: 'task.activity',
      task: 'api',
      usage: {
        contextTokens: 45_200,
        contextWindow: 200_000,
        costUsd: 0.4321,
        inputTokens: 1000,
        outputTokens: 2000,
      },
      activity: 'Editing src/api.ts',
    }),
    ev(40, { type: 'task.verifying', task: 'ui' }),
    ev(45, { type: 'task.merging', task: 'ui' }),
    ev(50, {
      type: 'task.merged',
      task: 'ui',
      commit: 'c'.repeat(40),
      stagingBefore: 'b'.repeat(40),
      evidence: { source: 'merge', at: at(50) },
    }),
  ];
}

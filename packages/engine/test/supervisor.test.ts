/**
 * The supervisor on its ports: a real temporary git repository (worktrees, verification, the merge
 * queue), the run log in memory, scripted workers instead of tmux, and a clock the test moves. Every
 * lifecycle path runs in about a second instead of a 10–110 s tmux run.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunEvent, RunEventInput, RunState } from '@orch/core';
import { runPaths } from '@orch/store';
import {
  FakeClock,
  FakeWorkers,
  MemoryRunLog,
  NO_SANDBOX_CONFIG,
  orchBin,
  tempRepo,
  type FakeWorker,
  type TempRepo,
  type WorkerScript,
} from '@orch/test-utils';
import { openRunContext, stagingBranch, type RunContext } from '../src/run/context.js';
import { RunJournal } from '../src/run/journal.js';
import { prepareRun } from '../src/run/start.js';
import { Supervisor } from '../src/supervisor/supervisor.js';

const IDLE_SEC = 60;
const RATE_LIMIT_WAIT_SEC = 30;

interface PlanTask {
  id: string;
  timeout?: number;
  deps?: string[];
  /** The agent CLI (default: shell); the fake runtime runs none of them. */
  agent?: string;
}

function planOf(tasks: PlanTask[], verify: (id: string) => string = (id) => `test -s ${id}.txt`): string {
  return (
    'tasks:\n' +
    tasks
      .map(
        (t) =>
          `  - id: ${t.id}\n    agent: ${t.agent ?? 'shell'}\n    files_write: [${t.id}.txt]\n` +
          `    verification: [{ command: ${JSON.stringify(verify(t.id))} }]\n    run: "true"\n` +
          (t.timeout ? `    timeout: ${t.timeout}\n` : '') +
          (t.deps ? `    depends_on: [${t.deps.join(', ')}]\n` : ''),
      )
      .join('')
  );
}

interface Harness {
  repo: TempRepo;
  ctx: RunContext;
  log: MemoryRunLog;
  workers: FakeWorkers;
  clock: FakeClock;
  stop: AbortController;
  /** The supervisor's run, started. */
  running: Promise<RunState>;
}

let h: Harness | undefined;

async function start(
  tasks: PlanTask[],
  scripts: Record<string, WorkerScript>,
  opts: {
    maxRetries?: number;
    maxWorkers?: number;
    before?: RunEventInput[];
    verifyLanes?: number;
    verify?: (id: string) => string;
  } = {},
): Promise<Harness> {
  const config =
    `${NO_SANDBOX_CONFIG}orchestration:\n  max_retries: ${opts.maxRetries ?? 1}\n` +
    `  idle_timeout: ${IDLE_SEC}\n  rate_limit_wait: ${RATE_LIMIT_WAIT_SEC}\n` +
    (opts.verifyLanes ? `  verify_lanes: ${opts.verifyLanes}\n` : '');
  const repo = await tempRepo({
    'tasks.yaml': planOf(tasks, opts.verify),
    '.claude-agents.yaml': config,
  });
  const prepared = await prepareRun({
    cwd: repo.root,
    planPath: 'tasks.yaml',
    noPromote: true,
    ...(opts.maxWorkers ? { maxWorkers: opts.maxWorkers } : {}),
    approve: async () => true,
  });
  const paths = runPaths(repo.root, prepared.run);
  const clock = new FakeClock();
  const log = new MemoryRunLog(await new RunJournal(paths.dir, paths.events).history(), () => clock.now());
  // What a previous supervisor of this run journaled (a resume).
  for (const ev of opts.before ?? []) await log.append(ev);
  const workers = new FakeWorkers(paths.dir);
  for (const [task, fn] of Object.entries(scripts)) workers.script(task, fn);
  const ctx = await openRunContext(repo.root, prepared.run, orchBin(), { journal: log, workers, clock });
  const stop = new AbortController();
  const running = new Supervisor(ctx, { signal: stop.signal, noPromote: true }).run();
  h = { repo, ctx, log, workers, clock, stop, running };
  return h;
}

afterEach(async () => {
  if (!h) return;
  const { stop, running, repo } = h;
  h = undefined;
  stop.abort();
  await running.catch(() => undefined);
  await repo.cleanup();
});

/** Waits (in real time, for the real git and file work) until `pred` holds. */
async function until(pred: () => boolean, what: string): Promise<void> {
  await vi.waitFor(
    () => {
      if (!pred()) throw new Error(`still waiting for ${what}`);
    },
    { timeout: 20_000, interval: 10 },
  );
}

function has(log: MemoryRunLog, match: (ev: RunEvent) => boolean): boolean {
  return log.events.some(match);
}

/** Waits until the supervisor sleeps on a deadline, then moves the clock past it. */
async function advanceWhenWaiting(harness: Harness, ms: number): Promise<void> {
  await until(() => harness.clock.pending > 0, 'a timer');
  harness.clock.advance(ms);
}

/** A worker that does its task: commits its file, reports done, exits 0. */
async function finish(w: FakeWorker): Promise<void> {
  await w.commit({ [`${w.task}.txt`]: `${w.task} attempt ${w.attempt}\n` });
  await w.done(`${w.task} finished`);
  await w.exit(0);
}

const status = (harness: Harness, id: string): string | undefined => harness.log.state?.tasks[id]?.status;

describe('the supervisor on in-memory ports', () => {
  it('retries a task whose worker reported failure, and merges the retry', async () => {
    const t = await start([{ id: 'a' }], {
      a: async (w) => {
        if (w.attempt === 1) {
          await w.fail('the tests did not pass');
          await w.exit(1);
          return;
        }
        await finish(w);
      },
    });
    const final = await t.running;
    expect(final.tasks.a?.status).toBe('merged');
    expect(t.workers.of('a').map((w) => w.attempt)).toEqual([1, 2]);
    const failed = t.log.ofType('task.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ task: 'a', final: false, reason: 'the tests did not pass' });
    expect(t.log.ofType('task.retry')).toMatchObject([{ task: 'a', attempt: 2 }]);
    expect(await t.repo.git('show', `${stagingBranch(t.ctx.run)}:a.txt`)).toBe('a attempt 2');
    expect(t.workers.errors).toEqual([]);
  });

  it('journals task.idle and retries a worker that goes silent', async () => {
    const t = await start([{ id: 'a' }], {
      a: async (w) => {
        if (w.attempt === 1) return; // silent: no output, no report, no exit
        await finish(w);
      },
    });
    await until(() => has(t.log, (e) => e.type === 'task.started'), 'the first attempt');
    await advanceWhenWaiting(t, IDLE_SEC * 1000 + 10);
    const final = await t.running;
    expect(t.log.ofType('task.idle')).toMatchObject([{ task: 'a', attempt: 1, idleSec: IDLE_SEC }]);
    expect(t.log.ofType('task.failed')[0]).toMatchObject({ category: 'timeout', final: false });
    expect(t.workers.of('a')[0]?.killed).toBe(true);
    expect(final.tasks.a?.status).toBe('merged');
  });

  it('a worker that prints is not idle: only its task timeout stops it (task.timed_out)', async () => {
    const t = await start([{ id: 'a', timeout: 150 }], { a: () => undefined }, { maxRetries: 0 });
    await until(() => has(t.log, (e) => e.type === 'task.started'), 'the first attempt');
    // Output every 50 s keeps it under the 60 s idle timeout until the 150 s deadline.
    const timedOut = (): boolean => has(t.log, (e) => e.type === 'task.timed_out');
    for (let i = 0; i < 10 && !timedOut(); i++) {
      t.workers.of('a')[0]?.print(10);
      await advanceWhenWaiting(t, 50_000);
      await until(() => t.clock.pending > 0 || timedOut(), 'the next check');
    }
    const final = await t.running;
    expect(t.log.ofType('task.idle')).toEqual([]);
    expect(t.log.ofType('task.timed_out')).toMatchObject([{ task: 'a', attempt: 1, timeoutSec: 150 }]);
    expect(final.tasks.a).toMatchObject({ status: 'failed' });
    expect(t.log.ofType('task.failed')).toMatchObject([{ category: 'timeout', final: true }]);
    expect(final.phase).not.toBe('running');
  });

  it('journals task.pane_gone when the worker vanishes without a report, and fails the attempt', async () => {
    const t = await start([{ id: 'a' }], { a: (w) => w.vanish(137) }, { maxRetries: 0 });
    await until(() => t.workers.of('a')[0]?.dead === true, 'the pane to end');
    // Nothing in the outbox: the supervisor judges by the runtime's view at once, no grace timer.
    const final = await t.running;
    expect(t.log.ofType('task.pane_gone')).toMatchObject([{ task: 'a', attempt: 1 }]);
    expect(t.log.ofType('task.exited')).toMatchObject([{ task: 'a', attempt: 1, exitCode: 137 }]);
    expect(t.log.ofType('task.failed')).toMatchObject([
      { task: 'a', final: true, reason: 'the worker exited with code 137' },
    ]);
    expect(final.tasks.a?.status).toBe('failed');
  });

  it('a worker whose exit the intake has not read yet when its pane ends is judged by that exit', async () => {
    const t = await start([{ id: 'a' }], {
      a: async (w) => {
        await w.commit({ 'a.txt': 'a\n' });
        await w.exit(0);
      },
    });
    // A loaded machine: any short grace timer is over before the intake gets to the outbox.
    const setTimer = t.clock.setTimer.bind(t.clock);
    t.clock.setTimer = (fn, ms) => {
      if (ms > 5_000) return setTimer(fn, ms);
      queueMicrotask(fn);
      return () => undefined;
    };
    const final = await t.running;
    expect(final.tasks.a?.status).toBe('merged');
    expect(t.log.ofType('task.pane_gone')).toEqual([]);
    // The wrapper's own exit event, not one the supervisor made up.
    expect(t.log.ofType('task.exited')).toMatchObject([
      { task: 'a', attempt: 1, exitCode: 0, evidence: { source: 'process-exit', detail: 'exit 0' } },
    ]);
  });

  it('a rate limit halves the workers (workers.throttled), waits for the reset, and a merge gives one back', async () => {
    const t = await start(
      [{ id: 'a' }],
      {
        a: async (w) => {
          if (w.attempt === 1) return w.rateLimited('usage limit reached');
          await finish(w);
        },
      },
      { maxWorkers: 4 },
    );
    await until(() => has(t.log, (e) => e.type === 'task.blocked'), 'the pause');
    expect(t.log.ofType('workers.throttled')).toMatchObject([{ maxWorkers: 2 }]);
    expect(t.log.ofType('task.blocked')[0]?.until).toBe(
      new Date(t.clock.now() + RATE_LIMIT_WAIT_SEC * 1000).toISOString(),
    );
    expect(t.workers.of('a')).toHaveLength(1);
    await advanceWhenWaiting(t, RATE_LIMIT_WAIT_SEC * 1000);
    const final = await t.running;
    expect(final.tasks.a?.status).toBe('merged');
    // Not a failure: no retry is used up.
    expect(t.log.ofType('task.failed')).toEqual([]);
    expect(t.log.ofType('workers.throttled').map((e) => e.maxWorkers)).toEqual([2, 3]);
  });

  it('a blocked-on message pauses the worker until the other task is merged, then restarts it', async () => {
    let release: () => void = () => undefined;
    const bPaused = new Promise<void>((r) => (release = r));
    const t = await start([{ id: 'a' }, { id: 'b' }], {
      a: async (w) => {
        await bPaused;
        await finish(w);
      },
      b: async (w) => {
        if (w.attempt === 1) {
          await w.blockedOn('a', 'needs the a module');
          return;
        }
        await finish(w);
      },
    });
    await until(() => t.workers.of('b')[0]?.killed === true, 'b to be stopped');
    expect(status(t, 'b')).toBe('blocked');
    expect(t.log.state?.tasks.b?.blockedOn).toBe('a');
    release();
    const final = await t.running;
    expect(final.tasks.a?.status).toBe('merged');
    expect(final.tasks.b?.status).toBe('merged');
    const order = t.log.events.map((e) => `${e.type}:${'task' in e ? e.task : ''}`);
    expect(order.indexOf('task.unblocked:b')).toBeGreaterThan(order.indexOf('task.merged:a'));
    expect(t.workers.of('b').map((w) => w.attempt)).toEqual([1, 2]);
    expect(t.log.ofType('task.failed')).toEqual([]);
  });

  it('a done report after the timeout fired is refused; the retry is what gets merged', async () => {
    let late: FakeWorker | undefined;
    let go: () => void = () => undefined;
    const retryMayFinish = new Promise<void>((r) => (go = r));
    const t = await start([{ id: 'a', timeout: 30 }], {
      a: async (w) => {
        if (w.attempt === 1) {
          late = w;
          return;
        }
        await retryMayFinish;
        await finish(w);
      },
    });
    await until(() => has(t.log, (e) => e.type === 'task.started'), 'the first attempt');
    await advanceWhenWaiting(t, 31_000);
    await until(() => t.workers.of('a').length === 2, 'the retry');
    expect(t.log.ofType('task.timed_out')).toMatchObject([{ task: 'a', attempt: 1 }]);
    // The first worker says it is done after all.
    await late!.done('finished late');
    await until(() => has(t.log, (e) => e.type === 'worker.rejected'), 'the refusal');
    expect(t.log.ofType('worker.rejected')[0]).toMatchObject({ channel: 'a', kind: 'done' });
    go();
    const final = await t.running;
    expect(final.tasks.a?.status).toBe('merged');
    expect(t.log.ofType('task.reported').map((e) => e.summary)).toEqual(['a finished']);
    expect(await t.repo.git('show', `${stagingBranch(t.ctx.run)}:a.txt`)).toBe('a attempt 2');
  });

  it('a limit a previous supervisor throttled to still holds after a resume', async () => {
    let release: () => void = () => undefined;
    const first = new Promise<void>((r) => (release = r));
    const t = await start(
      [{ id: 'a' }, { id: 'b' }],
      {
        a: async (w) => {
          await first;
          await finish(w);
        },
        b: async (w) => {
          await first;
          await finish(w);
        },
      },
      {
        maxWorkers: 2,
        before: [{ type: 'workers.throttled', maxWorkers: 1, reason: 'rate limited earlier' }],
      },
    );
    await until(() => t.workers.started.length === 1, 'one worker');
    // Both tasks are ready, but only one worker may run.
    expect(t.log.state?.tasks.a?.status === 'ready' || t.log.state?.tasks.b?.status === 'ready').toBe(true);
    expect(t.workers.started).toHaveLength(1);
    release();
    const final = await t.running;
    expect(final.tasks.a?.status).toBe('merged');
    expect(final.tasks.b?.status).toBe('merged');
    // The first merge gives the worker back: 1 -> 2.
    expect(t.log.ofType('workers.throttled').map((e) => e.maxWorkers)).toEqual([1, 2]);
  });

  it('a worker blocked on a decision waits for it, then is restarted with the answer', async () => {
    const t = await start([{ id: 'a' }], {
      a: async (w) => {
        if (w.attempt === 1) return void (await w.block('lodash', 'needs lodash to parse dates'));
        await finish(w);
      },
    });
    await until(() => t.workers.of('a')[0]?.killed === true, 'the worker to be stopped');
    expect(status(t, 'a')).toBe('blocked');
    expect(t.log.ofType('task.blocked')).toMatchObject([{ task: 'a', needs: 'lodash' }]);
    // `orch deps approve` journals the decision.
    await t.log.append({ type: 'task.unblocked', task: 'a', reason: 'lodash approved' });
    const final = await t.running;
    expect(final.tasks.a?.status).toBe('merged');
    expect(t.workers.of('a').map((w) => w.attempt)).toEqual([1, 2]);
    expect(t.log.ofType('task.failed')).toEqual([]);
  });

  it('a verifying task frees its worker slot: the third worker starts while two are checked, one lane at a time', async () => {
    const flags = await mkdtemp(join(tmpdir(), 'orch-lanes-'));
    // Each check notes its start and end, and holds until the test says go.
    const verify = (id: string): string =>
      `echo start ${id} >> ${flags}/log; while [ ! -f ${flags}/go ]; do sleep 0.02; done; ` +
      `echo end ${id} >> ${flags}/log; test -s ${id}.txt`;
    const t = await start(
      [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
      { a: finish, b: finish, c: finish },
      { maxWorkers: 2, verifyLanes: 1, verify },
    );
    try {
      // Two workers at once, and neither a's nor b's work is merged: c started beside their checks.
      await until(
        () => t.workers.started.length === 3 && t.log.ofType('task.verifying').length >= 2,
        'the third worker while two tasks verify',
      );
      expect(t.log.ofType('task.merged')).toEqual([]);
      expect(t.log.ofType('task.verified')).toEqual([]);
      await writeFile(join(flags, 'go'), '');
      const final = await t.running;
      expect(Object.values(final.tasks).map((x) => x.status)).toEqual(['merged', 'merged', 'merged']);
      // One lane: every check ended before the next one started.
      const lines = (await readFile(join(flags, 'log'), 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(6);
      lines.forEach((line, i) => expect(line.split(' ')[0]).toBe(i % 2 === 0 ? 'start' : 'end'));
      expect(t.workers.errors).toEqual([]);
    } finally {
      // A failed assertion must not leave a check waiting for ever.
      await writeFile(join(flags, 'go'), '');
      await t.running.catch(() => undefined);
      await rm(flags, { recursive: true, force: true });
    }
  });

  it('a result-event agent is done by its successful result at exit, without `orch task done`', async () => {
    // `orch run` checks the agent's CLI is installed; the fake runtime never runs it.
    const bin = await mkdtemp(join(tmpdir(), 'orch-codex-'));
    await writeFile(join(bin, 'codex'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path ?? ''}`;
    let t: Harness;
    try {
      t = await start(
        [
          { id: 'a', agent: 'codex' },
          { id: 'b', agent: 'codex' },
        ],
        {
          a: async (w) => {
            await w.commit({ 'a.txt': 'a\n' });
            await w.exit(0, { result: { ok: true, summary: 'a by its result' } });
          },
          // Exit 0 without the result event is not done for such an agent.
          b: async (w) => {
            await w.commit({ 'b.txt': 'b\n' });
            await w.exit(0);
          },
        },
        { maxRetries: 0 },
      );
    } finally {
      process.env.PATH = path;
      await rm(bin, { recursive: true, force: true });
    }
    const final = await t.running;
    expect(final.tasks.a?.status).toBe('merged');
    expect(t.log.ofType('task.reported')).toMatchObject([
      { task: 'a', status: 'done', summary: 'a by its result', evidence: { source: 'agent-result' } },
    ]);
    expect(final.tasks.b?.status).toBe('failed');
    expect(t.log.ofType('task.failed')).toMatchObject([
      {
        task: 'b',
        final: true,
        reason: 'the agent exited 0 without its final result event and without `orch task done`',
      },
    ]);
  });

  it('a final failure cancels the dependents, transitively, and the run ends', async () => {
    const t = await start(
      [{ id: 'a' }, { id: 'b', deps: ['a'] }, { id: 'c', deps: ['b'] }],
      {
        a: async (w) => {
          await w.fail(`attempt ${w.attempt} failed`);
          await w.exit(1);
        },
      },
      { maxRetries: 1 },
    );
    const final = await t.running;
    expect(t.workers.of('a').map((w) => w.attempt)).toEqual([1, 2]);
    expect(t.log.ofType('task.failed').map((e) => [e.reason, e.final])).toEqual([
      ['attempt 1 failed', false],
      ['attempt 2 failed', true],
    ]);
    expect(t.log.ofType('task.cancelled')).toMatchObject([
      { task: 'b', reason: 'dependency a failed' },
      { task: 'c', reason: 'dependency a failed' },
    ]);
    expect(t.workers.of('b')).toEqual([]);
    expect(final.phase).not.toBe('running');
  });

  it('the stop signal stops the workers and the supervisor without failing any task', async () => {
    const t = await start([{ id: 'a' }, { id: 'b' }], { a: () => undefined, b: () => undefined });
    await until(() => t.workers.started.length === 2, 'both workers');
    t.stop.abort();
    const final = await t.running;
    expect(t.workers.started.every((w) => w.killed)).toBe(true);
    expect(t.log.ofType('task.failed')).toEqual([]);
    expect(final.tasks.a?.status).toBe('running');
    expect(t.log.ofType('supervisor.stopped')).toMatchObject([{ reason: 'interrupted' }]);
  });
});

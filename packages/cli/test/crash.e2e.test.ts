/**
 * The crash test: a run of `shell` workers is killed (the supervisor with SIGKILL, single worker
 * sessions, the whole orch tmux server), resumed after each kill until it completes, and compared
 * with the tree an uninterrupted run of the same plan ends with (computed). This file holds the kill points on a task's way to
 * its merge and the detached run; `crash-late.e2e.test.ts` the merge queue's, integration's and
 * promotion's (see crash-harness.ts for the two schedules and ORCH_CRASH_KILLS / ORCH_CRASH_SEED).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { supervisorSessionName } from '@orch/tmux';
import { runOrch, spawnOrch, tempRepo } from '@orch/test-utils';
import {
  FILES,
  RANDOM_KILLS,
  SEED,
  TRIGGERS,
  assertComplete,
  currentRun,
  journalLines,
  killAndResume,
  outcome,
  pointKills,
  prng,
  randomKills,
  crashWorld,
  supervisorGone,
  tmux,
  waitForEvent,
  withSeed,
  type RunWorld,
} from './crash-harness.js';

/** task.ready, task.worktree, task.started, task.reported, task.merging. */
const POINTS = TRIGGERS.slice(0, 5);

// The two tests run side by side: each run has a repository and so a tmux server of its own (orch's
// socket is per repository), and a kill names its own run's server, session or supervisor.
describe.concurrent('resume after crashes', () => {
  const world = crashWorld();

  it(
    RANDOM_KILLS === undefined
      ? `survives a kill after each of ${POINTS.map((p) => p.on).join(', ')} (supervisor, worker session, tmux server)`
      : `survives ${RANDOM_KILLS} random kills of the supervisor, workers and tmux server`,
    async () => {
      const rand = prng(SEED);
      const kills = RANDOM_KILLS === undefined ? pointKills(rand, POINTS) : randomKills(rand, RANDOM_KILLS);
      const trace: string[] = [];
      try {
        await killAndResume(world, kills, rand, trace);
      } catch (e) {
        throw withSeed(trace, e);
      }
      if (process.env.ORCH_CRASH_VERBOSE) console.log(`seed ${SEED}\n${trace.join('\n')}`);
    },
    Math.max(600_000, (RANDOM_KILLS ?? 0) * 30_000),
  );

  it('resumes a detached run after its tmux server (with the supervisor in it) was killed', async () => {
    const rand = prng(SEED ^ 0x5bd1e995);
    const trace: string[] = [];
    const repo = await tempRepo(FILES);
    world.repos.push(repo);
    const w: RunWorld = { repo, env: world.env, trace };
    try {
      const started = await runOrch(['run', 'tasks.yaml', '--detach', '--yes', '--max-workers', '3'], {
        cwd: repo.root,
        env: world.env,
      });
      expect(started.exitCode, started.stderr).toBe(0);
      const run = (await currentRun(repo.root)) as string;
      const idle = spawnOrch(['wait', '--timeout', '300'], { cwd: repo.root, env: world.env });
      await waitForEvent(w, run, 0, { on: 'task.started' }, idle, 60_000);
      await sleep(rand() * 1000);
      await tmux(w, ['kill-server']);
      trace.push('kill tmux server (supervisor and workers)');
      // SIGHUP lets the supervisor stop cleanly; resume refuses while it is still alive.
      await supervisorGone(repo.root, run);
      const dry = await runOrch(['state', 'resume', '--dry-run', '--json'], {
        cwd: repo.root,
        env: world.env,
      });
      const plan = JSON.parse(dry.stdout) as { detached: boolean; items: { action: string }[] };
      expect(plan.detached).toBe(true);
      expect(plan.items.some((i) => i.action === 'watch')).toBe(false);
      const resumed = await runOrch(['state', 'resume'], { cwd: repo.root, env: world.env });
      expect(resumed.exitCode, resumed.stderr).toBe(0);
      expect(resumed.stdout).toMatch(/continues in the background/);
      // Kill the resumed supervisor itself (its pane's process) mid-run, then resume again.
      const from = (await journalLines(repo.root, run)).length;
      await waitForEvent(w, run, from, { on: 'task.merging' }, idle, 60_000);
      const pid = Number(
        (await tmux(w, ['list-panes', '-t', `=${supervisorSessionName(run)}:`, '-F', '#{pane_pid}'])).trim(),
      );
      if (pid > 0 && (await outcome(repo.root, run)) === undefined) {
        process.kill(pid, 'SIGKILL');
        trace.push(`SIGKILL detached supervisor ${pid}`);
        await supervisorGone(repo.root, run);
        const again = await runOrch(['state', 'resume'], { cwd: repo.root, env: world.env });
        expect(again.exitCode, again.stderr).toBe(0);
      }
      const waited = await idle;
      expect(waited.exitCode, String(waited.stdout)).toBe(0);
      // `orch wait` returns on the journal's last event; the background supervisor exits right after.
      for (let i = 0; i < 200 && (await tmux(w, ['list-sessions', '-F', '#{session_name}'])) !== ''; i += 1)
        await sleep(50);
      await assertComplete(w, run, world.expectedTree);
    } catch (e) {
      throw withSeed(trace, e);
    }
  }, 300_000);
});

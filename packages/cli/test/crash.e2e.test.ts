/**
 * The crash test: a run of `shell` workers is killed at random moments (the supervisor with SIGKILL,
 * single worker sessions, the whole orch tmux server), resumed after each kill until it completes,
 * and compared with an uninterrupted run of the same plan. Seeded: a failure prints its seed, and
 * `ORCH_CRASH_SEED=<n>` replays it; `ORCH_CRASH_KILLS` sets the number of kills (bench/crash.mjs).
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import { socketNameFor, supervisorSessionName } from '@orch/tmux';
import {
  isolatedTmux,
  landedTasks,
  runOrch,
  spawnOrch,
  tempRepo,
  type TempRepo,
  writerTaskYaml,
} from '@orch/test-utils';

const KILLS = Number(process.env.ORCH_CRASH_KILLS ?? 24);
const KILLS_PER_RUN = 12;
const SEED = Number(process.env.ORCH_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TASKS = ['a', 'b', 'c', 'd', 'e'];

/** mulberry32: a small seeded PRNG, enough to replay a sequence of kill points. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const task = (id: string, deps: string[]): string => writerTaskYaml(id, deps, { pause: 0.3 });

const FILES = {
  'README.md': '# crash\n',
  'tasks.yaml': `request: five tasks, killed at random\ntasks:${task('a', [])}${task('b', [])}${task('c', ['a'])}${task('d', ['b'])}${task('e', ['c', 'd'])}\n`,
  // The incremental and final checks run this (npm test), so kills land inside them too.
  'package.json': '{ "name": "crash", "private": true, "scripts": { "test": "sh check.sh" } }\n',
  'check.sh': 'sleep 0.2\n[ -d src ] || exit 0\nfor f in src/*.txt; do [ -s "$f" ] || exit 1; done\n',
  // Killed workers count as failed attempts when the supervisor sees them die; never run out.
  '.claude-agents.yaml': 'orchestration:\n  max_retries: 50\n',
};

/** Where the supervisor is killed: right after one of these journal events (or after `maxMs` anyway). */
const TRIGGERS: { on: string; phase?: string; maxDelayMs: number }[] = [
  { on: 'task.ready', maxDelayMs: 150 }, // worktree creation
  { on: 'task.worktree', maxDelayMs: 100 }, // worker launch
  { on: 'task.started', maxDelayMs: 1500 }, // workers running
  { on: 'task.reported', maxDelayMs: 300 }, // verification
  { on: 'task.merging', maxDelayMs: 200 }, // mid-merge
  { on: 'staging.moved', maxDelayMs: 600 }, // incremental check
  { on: 'check.passed', maxDelayMs: 30 }, // mid-batch: a batch's check passed, before its CAS
  { on: 'merge.batch', maxDelayMs: 50 }, // a batch done, before its tasks are journaled merged
  { on: 'run.phase', phase: 'integrating', maxDelayMs: 800 }, // final integration
  { on: 'run.phase', phase: 'promoting', maxDelayMs: 200 }, // promotion
];

type Rand = () => number;
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

interface RunWorld {
  repo: TempRepo;
  env: Record<string, string>;
  trace: string[];
}

const eventsPath = (root: string, run: string): string =>
  join(root, '.orchestrator', 'runs', run, 'events.jsonl');

async function currentRun(root: string): Promise<string | undefined> {
  return (await readFile(join(root, '.orchestrator', 'current'), 'utf8').catch(() => '')).trim() || undefined;
}

/** Complete journal lines (the last one may be mid-write while orch appends it). */
async function journalLines(root: string, run: string): Promise<string[]> {
  const text = await readFile(eventsPath(root, run), 'utf8').catch(() => '');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean);
}

async function tmux(w: RunWorld, args: string[]): Promise<string> {
  const r = await execa('tmux', ['-L', socketNameFor(w.repo.root), ...args], { env: w.env, reject: false });
  return r.exitCode === 0 ? String(r.stdout) : '';
}

/** Resolves with the matching event's index once it is journaled after `from`, or false when `proc` ends first. */
async function waitForEvent(
  w: RunWorld,
  run: string,
  from: number,
  t: { on: string; phase?: string },
  proc: ResultPromise,
  maxMs: number,
): Promise<boolean> {
  let ended = false;
  void proc.then(() => (ended = true));
  const deadline = Date.now() + maxMs;
  while (!ended && Date.now() < deadline) {
    const lines = await journalLines(w.repo.root, run);
    for (const l of lines.slice(from)) {
      const ev = JSON.parse(l) as { type: string; phase?: string };
      if (ev.type === t.on && (t.phase === undefined || ev.phase === t.phase)) return true;
    }
    await sleep(25);
  }
  return !ended;
}

async function outcome(root: string, run: string): Promise<string | undefined> {
  const lines = await journalLines(root, run);
  const fin = lines
    .map((l) => JSON.parse(l) as { type: string; outcome?: string })
    .filter((e) => e.type === 'run.finished');
  return fin.at(-1)?.outcome;
}

/** What a finished run must look like, whatever happened on the way. */
async function assertComplete(w: RunWorld, run: string, expectedTree: string): Promise<void> {
  const { repo } = w;
  const staging = `orch/${run}/staging`;
  expect(await outcome(repo.root, run)).toBe('succeeded');
  expect(await repo.git('rev-parse', `${staging}^{tree}`)).toBe(expectedTree);
  // Exactly once each: one squash commit per task on staging's first-parent history.
  const merges = await landedTasks(repo.root, staging);
  expect(merges.sort()).toEqual(TASKS);
  expect(await repo.git('rev-parse', 'main')).toBe(await repo.git('rev-parse', staging));
  const branches = (await repo.git('branch', '--format=%(refname:short)')).split('\n').sort();
  expect(branches).toEqual(['main', staging]);
  const worktrees = (await repo.git('worktree', 'list', '--porcelain'))
    .split('\n')
    .filter((l) => l.startsWith('worktree '));
  expect(worktrees).toEqual([`worktree ${await repo.git('rev-parse', '--show-toplevel')}`]);
  const dir = join(repo.root, '.worktrees');
  expect(existsSync(dir) ? await readdir(dir) : []).toEqual([]);
  const sessions = (await tmux(w, ['list-sessions', '-F', '#{session_name}'])).split('\n').filter(Boolean);
  expect(sessions).toEqual([]);
  expect(await repo.git('status', '--porcelain')).toBe('');
}

/** Waits until the last supervisor the journal names has exited. */
async function supervisorGone(root: string, run: string): Promise<void> {
  const starts = (await journalLines(root, run))
    .map((l) => JSON.parse(l) as { type: string; pid?: number })
    .filter((e) => e.type === 'supervisor.started');
  const pid = starts.at(-1)?.pid;
  const alive = (): boolean => {
    try {
      process.kill(pid as number, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 400 && pid && alive(); i += 1) await sleep(25);
}

function withSeed(trace: string[], e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e);
  return new Error(
    `crash test failed (seed ${SEED}; replay with ORCH_CRASH_SEED=${SEED})\n${msg}\nkill points:\n${trace.join('\n')}`,
  );
}

describe('resume after crashes', () => {
  let t: Awaited<ReturnType<typeof isolatedTmux>>;
  let expectedTree: string;
  const repos: TempRepo[] = [];

  beforeAll(async () => {
    t = await isolatedTmux();
    // The reference: the same plan, never interrupted.
    const repo = await tempRepo(FILES);
    repos.push(repo);
    const r = await runOrch(['run', 'tasks.yaml', '--no-tui', '--yes', '--max-workers', '3'], {
      cwd: repo.root,
      env: t.env,
      timeoutMs: 150_000,
    });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const run = (await currentRun(repo.root)) as string;
    expectedTree = await repo.git('rev-parse', `orch/${run}/staging^{tree}`);
    await assertComplete({ repo, env: t.env, trace: [] }, run, expectedTree);
  }, 180_000);

  afterAll(async () => {
    if (!process.env.ORCH_CRASH_KEEP) await t?.cleanup();
    // ORCH_CRASH_KEEP=1 keeps the repositories of a replay for inspection.
    if (!process.env.ORCH_CRASH_KEEP) for (const r of repos) await r.cleanup();
  });

  it(
    `survives ${KILLS} random kills of the supervisor, workers and tmux server`,
    async () => {
      const rand = prng(SEED);
      let total = 0;
      const trace: string[] = [];
      try {
        while (total < KILLS) {
          const repo = await tempRepo(FILES);
          repos.push(repo);
          const w: RunWorld = { repo, env: t.env, trace };
          let proc = spawnOrch(['run', 'tasks.yaml', '--no-tui', '--yes', '--max-workers', '3'], {
            cwd: repo.root,
            env: t.env,
          });
          // Kills start once the run has a journal (before it there is nothing to resume).
          let run: string | undefined;
          while (!(run = await currentRun(repo.root))) {
            if (proc.exitCode !== undefined && proc.exitCode !== null)
              throw new Error(`orch run ended early: ${String((await proc).stderr)}`);
            await sleep(25);
          }
          trace.push(`run ${run}`);
          let kills = 0;
          let ended = false;
          for (let cycle = 0; cycle < 200 && !ended; cycle += 1) {
            const from = (await journalLines(repo.root, run)).length;
            if (kills < KILLS_PER_RUN && total < KILLS) {
              const trig = pick(rand, TRIGGERS);
              const delay = Math.floor(rand() * trig.maxDelayMs);
              const kind = rand() < 0.7 ? 'supervisor' : rand() < 0.5 ? 'worker' : 'server';
              const hit = await waitForEvent(w, run, from, trig, proc, 1000 + rand() * 3000);
              if (hit) {
                await sleep(delay);
                if (kind === 'worker') {
                  const live = (await tmux(w, ['list-sessions', '-F', '#{session_name}']))
                    .split('\n')
                    .filter((s) => s.includes('__'));
                  if (live.length > 0) {
                    const victim = pick(rand, live);
                    await tmux(w, ['kill-session', '-t', `=${victim}`]);
                    trace.push(`  kill session ${victim} after ${trig.on} ${trig.phase ?? ''} +${delay} ms`);
                  } else trace.push('  (no worker session to kill)');
                } else if (kind === 'server') {
                  await tmux(w, ['kill-server']);
                  trace.push(`  kill tmux server after ${trig.on} ${trig.phase ?? ''} +${delay} ms`);
                }
                // The supervisor goes too (right away, or after it had a moment to notice the loss).
                if (kind !== 'supervisor') await sleep(rand() * 800);
                proc.kill('SIGKILL');
                trace.push(
                  `  SIGKILL supervisor (${kind === 'supervisor' ? `after ${trig.on} ${trig.phase ?? ''} +${delay} ms` : 'next'})`,
                );
                kills += 1;
                total += 1;
              }
            }
            const r = await proc;
            if (r.exitCode !== 0 && r.signal !== 'SIGKILL') {
              throw new Error(
                `orch exited ${r.exitCode}:\n${String(r.stdout).slice(-3000)}\n${String(r.stderr).slice(-3000)}`,
              );
            }
            const out = await outcome(repo.root, run);
            // After a kill, resume; a run that finished is resumed once more to tidy what the kill left.
            if (out !== undefined && r.signal !== 'SIGKILL') ended = true;
            else proc = spawnOrch(['state', 'resume', '--no-tui'], { cwd: repo.root, env: t.env });
          }
          trace.push(`  completed after ${kills} kills`);
          await assertComplete(w, run, expectedTree);
        }
      } catch (e) {
        throw withSeed(trace, e);
      }
      if (process.env.ORCH_CRASH_VERBOSE) console.log(`seed ${SEED}\n${trace.join('\n')}`);
    },
    Math.max(600_000, KILLS * 30_000),
  );

  it('resumes a detached run after its tmux server (with the supervisor in it) was killed', async () => {
    const rand = prng(SEED ^ 0x5bd1e995);
    const trace: string[] = [];
    const repo = await tempRepo(FILES);
    repos.push(repo);
    const w: RunWorld = { repo, env: t.env, trace };
    try {
      const started = await runOrch(['run', 'tasks.yaml', '--detach', '--yes', '--max-workers', '3'], {
        cwd: repo.root,
        env: t.env,
      });
      expect(started.exitCode, started.stderr).toBe(0);
      const run = (await currentRun(repo.root)) as string;
      const idle = spawnOrch(['wait', '--timeout', '300'], { cwd: repo.root, env: t.env });
      await waitForEvent(w, run, 0, { on: 'task.started' }, idle, 60_000);
      await sleep(rand() * 1000);
      await tmux(w, ['kill-server']);
      trace.push('kill tmux server (supervisor and workers)');
      // SIGHUP lets the supervisor stop cleanly; resume refuses while it is still alive.
      await supervisorGone(repo.root, run);
      const dry = await runOrch(['state', 'resume', '--dry-run', '--json'], { cwd: repo.root, env: t.env });
      const plan = JSON.parse(dry.stdout) as { detached: boolean; items: { action: string }[] };
      expect(plan.detached).toBe(true);
      expect(plan.items.some((i) => i.action === 'watch')).toBe(false);
      const resumed = await runOrch(['state', 'resume'], { cwd: repo.root, env: t.env });
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
        const again = await runOrch(['state', 'resume'], { cwd: repo.root, env: t.env });
        expect(again.exitCode, again.stderr).toBe(0);
      }
      const waited = await idle;
      expect(waited.exitCode, String(waited.stdout)).toBe(0);
      // `orch wait` returns on the journal's last event; the background supervisor exits right after.
      for (let i = 0; i < 200 && (await tmux(w, ['list-sessions', '-F', '#{session_name}'])) !== ''; i += 1)
        await sleep(50);
      await assertComplete(w, run, expectedTree);
    } catch (e) {
      throw withSeed(trace, e);
    }
  }, 300_000);
});

/**
 * The crash tests' world: a five-task plan of `shell` workers, the points at which they kill the
 * supervisor (right after a journal event), the kill-and-resume loop and what a finished run must
 * look like whatever happened on the way. Seeded: a failure prints its seed, and
 * `ORCH_CRASH_SEED=<n>` replays it.
 *
 * Two schedules. By default (`pnpm test`) every kill point is hit once, split over
 * `crash.e2e.test.ts` (the points of a task's way to its merge) and `crash-late.e2e.test.ts` (the
 * merge queue, integration and promotion), which run side by side; the kill kinds (supervisor,
 * worker session, tmux server) are spread over both. With `ORCH_CRASH_KILLS=<n>` (bench/crash.mjs)
 * `crash.e2e.test.ts` makes n kills at random points instead, as many as asked.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import { socketNameFor } from '@orch/tmux';
import {
  isolatedTmux,
  landedTasks,
  shellPlanTree,
  spawnOrch,
  tempRepo,
  type TempRepo,
  writerTaskYaml,
} from '@orch/test-utils';

/** The random schedule's kills (ORCH_CRASH_KILLS), or undefined for the default: each kill point once. */
export const RANDOM_KILLS = process.env.ORCH_CRASH_KILLS ? Number(process.env.ORCH_CRASH_KILLS) : undefined;
export const KILLS_PER_RUN = 12;
export const SEED = Number(process.env.ORCH_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
export const TASKS = ['a', 'b', 'c', 'd', 'e'];

/** mulberry32: a small seeded PRNG, enough to replay a sequence of kill points. */
export function prng(seed: number): () => number {
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

export const FILES = {
  'README.md': '# crash\n',
  'tasks.yaml': `request: five tasks, killed at random\ntasks:${task('a', [])}${task('b', [])}${task('c', ['a'])}${task('d', ['b'])}${task('e', ['c', 'd'])}\n`,
  // The incremental and final checks run this (npm test), so kills land inside them too.
  'package.json': '{ "name": "crash", "private": true, "scripts": { "test": "sh check.sh" } }\n',
  'check.sh': 'sleep 0.2\n[ -d src ] || exit 0\nfor f in src/*.txt; do [ -s "$f" ] || exit 1; done\n',
  // Killed workers count as failed attempts when the supervisor sees them die; never run out.
  '.claude-agents.yaml': 'orchestration:\n  max_retries: 50\n',
};

export interface Trigger {
  on: string;
  phase?: string;
  maxDelayMs: number;
}

/** Where the supervisor is killed: right after one of these journal events, in the order a run meets them. */
export const TRIGGERS: Trigger[] = [
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

export type KillKind = 'supervisor' | 'worker' | 'server';

export interface Kill {
  trigger: Trigger;
  kind: KillKind;
  delayMs: number;
  /** How long to wait for the trigger before killing anyway. */
  maxWaitMs: number;
  /** For a worker or server kill: how long the supervisor may notice the loss before it goes too. */
  graceMs: number;
}

export type Rand = () => number;
export const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

/** `ORCH_CRASH_KILLS` kills at random points (a random trigger, or a random moment when it does not come). */
export function randomKills(rand: Rand, count: number): Kill[] {
  return Array.from({ length: count }, () => {
    const trigger = pick(rand, TRIGGERS);
    const delayMs = Math.floor(rand() * trigger.maxDelayMs);
    const kind: KillKind = rand() < 0.7 ? 'supervisor' : rand() < 0.5 ? 'worker' : 'server';
    return { trigger, kind, delayMs, maxWaitMs: 1000 + rand() * 3000, graceMs: rand() * 800 };
  });
}

/**
 * One kill at each of `triggers`, in run order, each after its event really came (a run that ends
 * first goes on in a new run): the kinds are a seeded shuffle of three supervisor kills, one worker
 * session and one tmux server kill (per five points), the delays seeded as in the random schedule.
 */
export function pointKills(rand: Rand, triggers: readonly Trigger[]): Kill[] {
  const kinds: KillKind[] = triggers.map(
    (_, i) => (['supervisor', 'worker', 'supervisor', 'server', 'supervisor'] as const)[i % 5]!,
  );
  for (let i = kinds.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rand() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  return triggers.map((trigger, i) => ({
    trigger,
    kind: kinds[i]!,
    delayMs: Math.floor(rand() * trigger.maxDelayMs),
    maxWaitMs: 90_000,
    graceMs: rand() * 800,
  }));
}

export interface RunWorld {
  repo: TempRepo;
  env: Record<string, string>;
  trace: string[];
}

const eventsPath = (root: string, run: string): string =>
  join(root, '.orchestrator', 'runs', run, 'events.jsonl');

export async function currentRun(root: string): Promise<string | undefined> {
  return (await readFile(join(root, '.orchestrator', 'current'), 'utf8').catch(() => '')).trim() || undefined;
}

/** Complete journal lines (the last one may be mid-write while orch appends it). */
export async function journalLines(root: string, run: string): Promise<string[]> {
  const text = await readFile(eventsPath(root, run), 'utf8').catch(() => '');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean);
}

export async function tmux(w: RunWorld, args: string[]): Promise<string> {
  const r = await execa('tmux', ['-L', socketNameFor(w.repo.root), ...args], { env: w.env, reject: false });
  return r.exitCode === 0 ? String(r.stdout) : '';
}

/**
 * Resolves true once the matching event is journaled after line `from`; false when `proc` ends
 * first; after `maxMs` without it, true while `proc` still runs (kill at a random moment then).
 */
export async function waitForEvent(
  w: RunWorld,
  run: string,
  from: number,
  t: { on: string; phase?: string },
  proc: ResultPromise,
  maxMs: number,
): Promise<boolean> {
  let ended = false;
  void proc.then(
    () => (ended = true),
    () => (ended = true),
  );
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

export async function outcome(root: string, run: string): Promise<string | undefined> {
  const lines = await journalLines(root, run);
  const fin = lines
    .map((l) => JSON.parse(l) as { type: string; outcome?: string })
    .filter((e) => e.type === 'run.finished');
  return fin.at(-1)?.outcome;
}

/** What a finished run must look like, whatever happened on the way. */
export async function assertComplete(w: RunWorld, run: string, expectedTree: string): Promise<void> {
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
export async function supervisorGone(root: string, run: string): Promise<void> {
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

export function withSeed(trace: string[], e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e);
  return new Error(
    `crash test failed (seed ${SEED}; replay with ORCH_CRASH_SEED=${SEED})\n${msg}\nkill points:\n${trace.join('\n')}`,
  );
}

const exited = (proc: ResultPromise): boolean =>
  (proc.exitCode ?? null) !== null || (proc.signalCode ?? null) !== null;

const RUN_ARGS = ['run', 'tasks.yaml', '--no-tui', '--yes', '--max-workers', '3'];

/**
 * The reference: staging's tree after an uninterrupted run of the plan, computed (the shell tasks
 * applied one after another at the base, no orch involved) instead of run.
 */
export async function referenceTree(repos: TempRepo[]): Promise<string> {
  const repo = await tempRepo(FILES);
  repos.push(repo);
  return shellPlanTree(repo.root, await repo.git('rev-parse', 'HEAD'), FILES['tasks.yaml']);
}

/**
 * Makes `kills` (at most KILLS_PER_RUN per run, new runs as needed), resuming after each until the
 * run completes, and checks every completed run against the reference tree.
 */
export async function killAndResume(
  world: CrashWorld,
  kills: readonly Kill[],
  rand: Rand,
  trace: string[],
): Promise<void> {
  const { env, repos, expectedTree } = world;
  let next = 0;
  while (next < kills.length) {
    const repo = await tempRepo(FILES);
    repos.push(repo);
    const w: RunWorld = { repo, env, trace };
    let proc = spawnOrch(RUN_ARGS, { cwd: repo.root, env });
    // Kills start once the run has a journal (before it there is nothing to resume).
    let run: string | undefined;
    while (!(run = await currentRun(repo.root))) {
      if (exited(proc)) throw new Error(`orch run ended early: ${String((await proc).stderr)}`);
      await sleep(25);
    }
    trace.push(`run ${run}`);
    let inRun = 0;
    let ended = false;
    for (let cycle = 0; cycle < 200 && !ended; cycle += 1) {
      const from = (await journalLines(repo.root, run)).length;
      const k = kills[next];
      if (k && inRun < KILLS_PER_RUN) {
        const { trigger: trig, delayMs: delay, kind } = k;
        const at = `${trig.on} ${trig.phase ?? ''}`;
        const hit = await waitForEvent(w, run, from, trig, proc, k.maxWaitMs);
        if (hit) {
          await sleep(delay);
          // Whether the kill struck the running run (it may have ended in the meantime).
          let struck = false;
          if (kind === 'worker' && !exited(proc)) {
            const live = (await tmux(w, ['list-sessions', '-F', '#{session_name}']))
              .split('\n')
              .filter((s) => s.includes('__'));
            if (live.length > 0) {
              const victim = pick(rand, live);
              await tmux(w, ['kill-session', '-t', `=${victim}`]);
              trace.push(`  kill session ${victim} after ${at} +${delay} ms`);
              struck = true;
            } else trace.push(`  (no worker session to kill after ${at} +${delay} ms)`);
          } else if (kind === 'server' && !exited(proc)) {
            await tmux(w, ['kill-server']);
            trace.push(`  kill tmux server after ${at} +${delay} ms`);
            struck = true;
          }
          // The supervisor goes too (right away, or after it had a moment to notice the loss).
          if (kind !== 'supervisor') await sleep(k.graceMs);
          if (!exited(proc)) {
            proc.kill('SIGKILL');
            trace.push(
              `  SIGKILL supervisor (${kind === 'supervisor' ? `after ${at} +${delay} ms` : 'next'})`,
            );
            struck = true;
          }
          if (struck) {
            inRun += 1;
            next += 1;
          } else {
            // The run got past this point before the kill: the point comes again (a new run), sooner.
            trace.push(`  (run ended ${delay} ms after ${at}: that kill again, sooner)`);
            k.delayMs = Math.floor(delay / 2);
            k.graceMs /= 2;
          }
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
      else proc = spawnOrch(['state', 'resume', '--no-tui'], { cwd: repo.root, env });
    }
    trace.push(`  completed after ${inRun} kills`);
    await assertComplete(w, run, expectedTree);
  }
}

export interface CrashWorld {
  /** The isolated tmux environment every run of the file uses. */
  env: Record<string, string>;
  /** Staging's tree after an uninterrupted run (computed). */
  expectedTree: string;
  /** Every repository made, removed after the file (unless ORCH_CRASH_KEEP=1 keeps a replay's). */
  repos: TempRepo[];
}

/** A file's crash world: an isolated tmux and the reference tree before its tests, gone after them. */
export function crashWorld(): CrashWorld {
  const world: CrashWorld = { env: {}, expectedTree: '', repos: [] };
  let t: Awaited<ReturnType<typeof isolatedTmux>> | undefined;
  beforeAll(async () => {
    t = await isolatedTmux();
    world.env = t.env;
    world.expectedTree = await referenceTree(world.repos);
  }, 60_000);
  afterAll(async () => {
    if (process.env.ORCH_CRASH_KEEP) return;
    await t?.cleanup();
    for (const r of world.repos) await r.cleanup();
  });
  return world;
}

/** Run ids, the `current` pointer, the list of runs, and finding the run a command is about. */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { OrchError, isTerminalPhase, type RunPhase, type RunState, isProcessAlive, traced } from '@orch/core';
import { writeFileAtomic } from './atomic.js';
import { loadRunState } from './journal.js';
import { assertSafeName } from './names.js';
import { orchPaths, runPaths } from './paths.js';
import { resolveRepoRoot } from './repo-root.js';

const RUN_ID_RE = /^\d{8}-\d{6}-[0-9a-f]{4,}$/;

/** A sortable id safe for branch, session and folder names, e.g. `20261121-053000-a1b2` (UTC). */
export function newRunId(now: Date = new Date()): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const date = `${p(now.getUTCFullYear(), 4)}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}`;
  const time = `${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${date}-${time}-${randomBytes(2).toString('hex')}`;
}

export function isRunId(id: string): boolean {
  return RUN_ID_RE.test(id);
}

/** Creates a fresh run directory under a new id (retrying on the rare id clash); returns the id. */
export async function createRunDir(repoRoot: string, now: Date = new Date()): Promise<string> {
  await mkdir(orchPaths(repoRoot).runsDir, { recursive: true });
  for (let i = 0; i < 20; i++) {
    const id = newRunId(now);
    try {
      await mkdir(runPaths(repoRoot, id).dir);
      return id;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new OrchError('ERR_ORCH_RUN_ID', 'could not allocate a new run id', { hint: 'Try again.' });
}

export async function setCurrentRun(repoRoot: string, run: string): Promise<void> {
  assertSafeName(run, 'run id');
  await writeFileAtomic(orchPaths(repoRoot).currentFile, `${run}\n`);
}

export async function getCurrentRun(repoRoot: string): Promise<string | undefined> {
  try {
    const id = (await readFile(orchPaths(repoRoot).currentFile, 'utf8')).trim();
    return id === '' ? undefined : assertSafeName(id, 'run id');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export interface RunSummary {
  run: string;
  startedAt: string;
  phase: RunPhase;
  request: string;
  outcome?: 'succeeded' | 'failed' | 'needs_attention' | 'aborted';
  /** Its supervisor is running right now (this process id). */
  live: boolean;
  supervisorPid?: number;
}

/** A run is live while it is unfinished and the supervisor its journal names is still running. */
export function isRunLive(state: RunState | undefined): boolean {
  return Boolean(
    state &&
    !isTerminalPhase(state.phase) &&
    state.supervisorAlive &&
    state.supervisorPid !== undefined &&
    isProcessAlive(state.supervisorPid),
  );
}

/** Every run of the repository, newest first. */
export async function listRuns(repoRoot: string): Promise<RunSummary[]> {
  const { runsDir } = orchPaths(repoRoot);
  let names: string[];
  try {
    names = await readdir(runsDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: RunSummary[] = [];
  for (const run of names) {
    if (run.startsWith('.')) continue;
    const dir = runPaths(repoRoot, run).dir;
    const st = await stat(dir).catch(traced('store.runs.stat'));
    if (!st?.isDirectory()) continue;
    const state = await loadRunState(dir).catch(traced('store.runs.loadRunState'));
    out.push({
      run,
      startedAt: state?.startedAt ?? st.mtime.toISOString(),
      phase: state?.phase ?? 'starting',
      request: state?.request ?? '',
      ...(state?.outcome ? { outcome: state.outcome } : {}),
      live: isRunLive(state),
      ...(state?.supervisorPid !== undefined ? { supervisorPid: state.supervisorPid } : {}),
    });
  }
  return out.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.run.localeCompare(a.run));
}

export interface ResolveRunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Explicit run id (`--run`), wins over ORCH_RUN and the current run. */
  run?: string;
  /** Explicit task id (`--task`), wins over ORCH_TASK. */
  task?: string;
}

export interface ResolvedRun {
  repoRoot: string;
  run: string;
  task?: string;
}

/** Finds the run (and task) a command is about: `--run`, ORCH_* variables, else the current run. */
export async function resolveRun(opts: ResolveRunOptions = {}): Promise<ResolvedRun> {
  const env = opts.env ?? process.env;
  const repoRoot = await resolveRepoRoot(opts);
  const run = opts.run ?? (env.ORCH_RUN || undefined) ?? (await getCurrentRun(repoRoot));
  if (!run) {
    throw new OrchError('ERR_ORCH_NO_RUN', `no orch run found in ${repoRoot}`, {
      hint: 'Start one with `orch run`, or name one with --run <id> (runs live in .orchestrator/runs/).',
    });
  }
  assertSafeName(run, 'run id');
  const st = await stat(runPaths(repoRoot, run).dir).catch(traced('store.runs.stat'));
  if (!st?.isDirectory()) {
    throw new OrchError('ERR_ORCH_RUN_NOT_FOUND', `run ${run} does not exist in ${repoRoot}`, {
      hint: 'Runs live in .orchestrator/runs/; check the id, or unset ORCH_RUN.',
    });
  }
  const task = opts.task ?? (env.ORCH_TASK || undefined);
  return { repoRoot, run, ...(task ? { task: assertSafeName(task, 'task id') } : {}) };
}

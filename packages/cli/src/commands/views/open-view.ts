/** `orch dashboard` and `orch workers`: one plain frame, the state as JSON, or the live views. */
import { OrchError, type RunState } from '@orch/core';
import { loadRunState, resolveRun, runPaths, watchJournal } from '@orch/store';
import {
  DashboardStore,
  renderPlainDashboard,
  renderPlainWorkers,
  runInteractive,
  selectWorkers,
  workerLines,
  type PaneSource,
} from '@orch/tui';
import type { CommandIO, CommandResult } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';
import { useColor } from '../../output.js';
import { storeUrlOf } from '../../run-store.js';
import { whereOf } from '../common/run.js';
import { followedRunNote } from '../state/follow.js';
import { bellWanted, detailReaders, logPanes, tmuxPanes, type RunLocation } from './sources.js';

export interface ViewOptions {
  run?: string;
  /** A distributed run's Redis store (`--store`; else the config's `store.url`). */
  store?: string;
  once?: boolean;
  json?: boolean;
  /** Where worker output comes from: worker logs (default) or tmux `capture-pane`. */
  panes?: 'log' | 'tmux';
}

const PANE_LINES = 12;

/**
 * `orch workers --json` or its plain frame, from a run's state and where its worker output comes
 * from; `hosts` (a distributed run's) adds each live worker's host to the JSON.
 */
export async function workersSnapshot(
  state: RunState,
  panes: PaneSource,
  io: CommandIO,
  json: boolean,
  hosts?: ReadonlyMap<string, string>,
): Promise<Pick<CommandResult, 'json' | 'lines'>> {
  const model = selectWorkers(state, Date.now());
  const captured = new Map<string, string[]>();
  for (const w of model.live)
    captured.set(w.task.id, await panes.capture(w.task, PANE_LINES).catch(() => []));
  if (json) {
    return {
      json: {
        run: state.run,
        live: model.live.map((w) => ({
          task: w.task.id,
          status: w.task.status,
          ...(hosts ? { host: hosts.get(w.task.id) ?? null } : {}),
          lines: workerLines(w.task, captured.get(w.task.id) ?? [], PANE_LINES),
        })),
        finished: model.finished.map((w) => ({
          task: w.task.id,
          status: w.task.status,
          message: w.row.message,
        })),
        waiting: model.waiting,
        afterDependencies: model.afterDependencies,
      },
    };
  }
  const frame = renderPlainWorkers(state, captured, {
    width: plainWidth(io),
    color: useColor(io.stdout),
    lines: PANE_LINES,
  });
  return { lines: [frame.replace(/\n$/, '')] };
}

async function locate(run: string | undefined, io: CommandIO): Promise<RunLocation & { run: string }> {
  const r = await resolveRun({ ...whereOf(io), ...(run ? { run } : {}) });
  return { repoRoot: r.repoRoot, run: r.run, runDir: runPaths(r.repoRoot, r.run).dir };
}

async function loadStarted(loc: RunLocation & { run: string }): Promise<RunState> {
  const state = await loadRunState(loc.runDir);
  if (!state) {
    throw new OrchError('ERR_ORCH_RUN_NOT_FOUND', `run ${loc.run} has no events yet`, {
      hint: 'Wait until `orch run` has started it, or run `orch dashboard` without --once to wait live.',
    });
  }
  return state;
}

/** A plain frame is printed with --once, and whenever there is no terminal to draw on. */
function wantsPlain(opts: ViewOptions, io: CommandIO): boolean {
  return Boolean(opts.once) || !io.stdout.isTTY || !io.stdin?.isTTY;
}

export function plainWidth(io: CommandIO): number {
  return io.stdout.isTTY && io.stdout.columns ? io.stdout.columns : 120;
}

/** The remark naming the run followed when others are live too, on stderr. */
async function noteFollowed(
  loc: { repoRoot: string; run: string },
  opts: ViewOptions,
  io: CommandIO,
  command: string,
): Promise<string[]> {
  const named = opts.run !== undefined || Boolean(io.env.ORCH_RUN);
  const followed = await followedRunNote(loc.repoRoot, loc.run, named, command);
  return followed ? [followed] : [];
}

async function paneSource(loc: RunLocation, kind: ViewOptions['panes']): Promise<PaneSource> {
  return kind === 'tmux' ? tmuxPanes(loc) : logPanes(loc);
}

async function live(loc: RunLocation, view: 'dashboard' | 'workers', panes: PaneSource): Promise<void> {
  const initial = await loadRunState(loc.runDir);
  const store: DashboardStore = new DashboardStore({
    state: initial,
    readers: detailReaders(loc, () => store.getState()),
  });
  const watcher = watchJournal(loc.runDir, (_events, state) => store.replace(state));
  try {
    await runInteractive({ source: store, panes, view, bell: await bellWanted(loc.repoRoot) });
  } finally {
    watcher.close();
  }
}

/**
 * `orch dashboard`: the state (--json) or one plain frame is returned; the live view draws on this
 * process's terminal until q.
 */
export async function dashboardCommand(opts: ViewOptions, io: CommandIO): Promise<CommandResult> {
  const url = await storeUrlOf(opts.store, io);
  if (url) return (await import('./store-view.js')).storeDashboard(url, opts, io, wantsPlain);
  const loc = await locate(opts.run, io);
  const notes = await noteFollowed(loc, opts, io, 'orch dashboard');
  if (opts.json) return { exitCode: ExitCode.Ok, notes, json: await loadStarted(loc) };
  if (wantsPlain(opts, io)) {
    const state = await loadStarted(loc);
    const frame = renderPlainDashboard(state, { width: plainWidth(io), color: useColor(io.stdout) });
    return { exitCode: ExitCode.Ok, notes, lines: [frame.replace(/\n$/, '')] };
  }
  for (const n of notes) io.stderr.write(`${n}\n`);
  await live(loc, 'dashboard', await paneSource(loc, opts.panes));
  return { exitCode: ExitCode.Ok };
}

/** `orch workers`: as the dashboard, with each live worker's latest output lines. */
export async function workersCommand(opts: ViewOptions, io: CommandIO): Promise<CommandResult> {
  const url = await storeUrlOf(opts.store, io);
  if (url) return (await import('./store-view.js')).storeWorkers(url, opts, io, wantsPlain);
  const loc = await locate(opts.run, io);
  const notes = await noteFollowed(loc, opts, io, 'orch workers');
  const panes = await paneSource(loc, opts.panes);
  if (opts.json || wantsPlain(opts, io)) {
    const state = await loadStarted(loc);
    return { exitCode: ExitCode.Ok, notes, ...(await workersSnapshot(state, panes, io, !!opts.json)) };
  }
  for (const n of notes) io.stderr.write(`${n}\n`);
  await live(loc, 'workers', panes);
  return { exitCode: ExitCode.Ok };
}

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
import { note, printJson, useColor } from '../../output.js';
import { followedRunNote } from '../state/follow.js';
import { bellWanted, detailReaders, logPanes, tmuxPanes, type RunLocation } from './sources.js';

export interface ViewOptions {
  run?: string;
  once?: boolean;
  json?: boolean;
  /** Where worker output comes from: worker logs (default) or tmux `capture-pane`. */
  panes?: 'log' | 'tmux';
}

const PANE_LINES = 12;

async function locate(run: string | undefined): Promise<RunLocation & { run: string }> {
  const r = await resolveRun({ cwd: process.cwd(), env: process.env, ...(run ? { run } : {}) });
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
function wantsPlain(opts: ViewOptions): boolean {
  return Boolean(opts.once) || !process.stdout.isTTY || !process.stdin.isTTY;
}

function plainWidth(): number {
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 120;
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

export async function dashboardCommand(opts: ViewOptions): Promise<void> {
  const loc = await locate(opts.run);
  const followed = await followedRunNote(
    loc.repoRoot,
    loc.run,
    opts.run !== undefined || Boolean(process.env.ORCH_RUN),
    'orch dashboard',
  );
  if (followed) note(followed);
  if (opts.json) {
    printJson(await loadStarted(loc));
    return;
  }
  if (wantsPlain(opts)) {
    const state = await loadStarted(loc);
    process.stdout.write(
      renderPlainDashboard(state, { width: plainWidth(), color: useColor(process.stdout) }),
    );
    return;
  }
  await live(loc, 'dashboard', await paneSource(loc, opts.panes));
}

export async function workersCommand(opts: ViewOptions): Promise<void> {
  const loc = await locate(opts.run);
  const followed = await followedRunNote(
    loc.repoRoot,
    loc.run,
    opts.run !== undefined || Boolean(process.env.ORCH_RUN),
    'orch workers',
  );
  if (followed) note(followed);
  const panes = await paneSource(loc, opts.panes);
  if (opts.json || wantsPlain(opts)) {
    const state = await loadStarted(loc);
    const model = selectWorkers(state, Date.now());
    const captured = new Map<string, string[]>();
    for (const w of model.live)
      captured.set(w.task.id, await panes.capture(w.task, PANE_LINES).catch(() => []));
    if (opts.json) {
      printJson({
        run: state.run,
        live: model.live.map((w) => ({
          task: w.task.id,
          status: w.task.status,
          lines: workerLines(w.task, captured.get(w.task.id) ?? [], PANE_LINES),
        })),
        finished: model.finished.map((w) => ({
          task: w.task.id,
          status: w.task.status,
          message: w.row.message,
        })),
        waiting: model.waiting,
        afterDependencies: model.afterDependencies,
      });
      return;
    }
    process.stdout.write(
      renderPlainWorkers(state, captured, {
        width: plainWidth(),
        color: useColor(process.stdout),
        lines: PANE_LINES,
      }),
    );
    return;
  }
  await live(loc, 'workers', panes);
}

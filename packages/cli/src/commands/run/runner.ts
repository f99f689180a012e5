import { createInterface } from 'node:readline/promises';
import { ExitCode, terminalSafeLine, type RunEvent, type RunState } from '@orch/core';
import {
  orchBinPath,
  prepareRun,
  stagingBranch,
  startDetachedSupervisor,
  superviseRun,
  supervisorLog,
  type RunPorts,
} from '@orch/engine';
import { runPaths } from '@orch/store';
import {
  isOutputLost,
  markOutputLost,
  note,
  outliveOutput,
  paint,
  printJson,
  println,
} from '../../output.js';
import type { CommandResult, Output } from '../../define.js';
import { otherLiveRunNotes } from '../state/follow.js';
import type { openDistributed } from './distributed.js';
import { describeEvent, outcomeExitCode } from './progress.js';

export interface RunOpts {
  maxWorkers?: number | undefined;
  agent?: string | undefined;
  model?: string | undefined;
  base?: string | undefined;
  yes: boolean;
  detach: boolean;
  tui: boolean;
  promote: boolean;
  json: boolean;
  store?: string | undefined;
  remote?: string | undefined;
}

async function askApproval(score: number, status: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(`The plan's risk is ${score} (${status}). Run it? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export async function runCommand(planPath: string, opts: RunOpts): Promise<ExitCode> {
  const opened = await openStore(opts);
  try {
    return await runWith(planPath, opts, opened);
  } finally {
    await opened?.dist.close();
  }
}

type Distributed = NonNullable<Awaited<ReturnType<typeof openDistributed>>>;

/** The distributed run the options or the config name (its clients imported only then), or undefined. */
async function openStore(opts: RunOpts): Promise<Distributed | undefined> {
  const { openDistributed: open } = await import('./distributed.js');
  return open(process.cwd(), opts, process.env);
}

async function runWith(planPath: string, opts: RunOpts, opened: Distributed | undefined): Promise<ExitCode> {
  const orchBin = orchBinPath();
  const dist = opened?.dist;
  const prepared = await prepareRun({
    ...(dist ? { openJournal: dist.openJournal, remote: dist.remote } : {}),
    cwd: process.cwd(),
    planPath,
    ...(opts.maxWorkers ? { maxWorkers: opts.maxWorkers } : {}),
    ...(opts.agent ? { agent: opts.agent } : {}),
    ...(opts.model ? { model: opts.model } : {}),
    ...(opts.base ? { base: opts.base } : {}),
    detach: opts.detach === true,
    noPromote: opts.promote === false,
    approve: async (report) =>
      opts.yes === true || (await askApproval(report.risk.score, report.risk.status)),
  });
  const { repoRoot, run } = prepared;
  // A detached run's ports are its supervisor's, in the background: none are opened here.
  const ports = dist && !opts.detach ? await dist.ports(run, prepared.plan, prepared.config) : undefined;
  if (dist && !dist.basePushed)
    note(
      `note: the remote's ${prepared.base} has moved on; it is left as it is (only staging is needed there)`,
    );
  if (opts.json !== true && opts.promote !== false && prepared.config.promotion.enabled)
    announceDirtyCheckout(prepared);
  for (const w of prepared.warnings) note(`warning: ${w}`);
  for (const n of await otherLiveRunNotes(repoRoot, run)) note(n);
  if (prepared.sandbox.notice && opts.json !== true)
    println(paint('yellow', `note: ${prepared.sandbox.notice} (workers.sandbox: auto)`));
  if (opts.detach) {
    const store = opened ? await detachedStore(opened) : undefined;
    const { session } = await startDetachedSupervisor({
      repoRoot,
      run,
      orchBin,
      noPromote: opts.promote === false,
      ...(store ? { store } : {}),
    });
    if (opts.json) {
      printJson({
        run,
        detached: true,
        session,
        base: prepared.base,
        staging: stagingBranch(run),
        ...(opened ? { store: opened.url } : {}),
      });
      return ExitCode.Ok;
    }
    const on = opened ? ` --store ${opened.url}` : '';
    println(
      `Run ${paint('bold', run)} started in the background (${prepared.plan.tasks.length} tasks, base ${prepared.base}).`,
    );
    println(`  watch it:     orch dashboard${on}`);
    println(`  wait for it:  orch wait${on} --timeout 540`);
    println(`  after a stop: orch state resume${on} --run ${run}`);
    return ExitCode.Ok;
  }
  const plain = opts.json !== true;
  if (plain && opts.tui !== false && process.stdout.isTTY && process.stdin.isTTY) {
    const state = await superviseWithDashboard(repoRoot, run, orchBin, {
      noPromote: opts.promote === false,
      ...(ports ? { ports } : {}),
    });
    return finish(state, false, opened?.url);
  }
  if (plain) {
    println(
      `Run ${paint('bold', run)}: ${prepared.plan.tasks.length} tasks on ${prepared.base} (${prepared.baseCommit.slice(0, 8)}), staging ${stagingBranch(run)}`,
    );
    if (prepared.committedFiles.length > 0)
      println(`  committed onto staging: ${prepared.committedFiles.join(', ')}`);
  }
  const state = await superviseRun(repoRoot, run, orchBin, {
    ...(opts.promote === false ? { noPromote: true } : {}),
    ...(ports ? { ports } : {}),
    onHangup: outliveTerminal(repoRoot, run),
    ...(plain
      ? {
          onEvent: (ev: RunEvent, s: RunState) => {
            const line = describeEvent(ev, s);
            if (line) println(line);
          },
        }
      : {}),
  });
  return finish(state, opts.json === true, opened?.url);
}

/**
 * Hands a distributed run to its detached supervisor: this process lets go of the run's lease
 * first (the supervisor takes it), and the store's password leaves this process's environment so
 * that a tmux server started now does not inherit it (the supervisor gets it in a file).
 */
async function detachedStore(opened: Distributed) {
  const { storeHandover } = await import('./distributed.js');
  const handover = await storeHandover(process.env, process.cwd());
  await opened.dist.close();
  delete process.env.ORCH_REDIS_PASSWORD;
  return { url: opened.url, remote: opened.dist.remote, ...handover };
}

/** Said up front, not only at the end: uncommitted changes in the checkout stop the promotion. */
function announceDirtyCheckout(p: Awaited<ReturnType<typeof prepareRun>>): void {
  const d = p.dirtyCheckout;
  if (!d) return;
  const files =
    d.files.length <= 5
      ? d.files.join(', ')
      : `${d.files.slice(0, 5).join(', ')} and ${d.files.length - 5} more`;
  println(
    `${paint('yellow', 'note')}: your checkout ${d.path} has uncommitted changes (${files}). orch does not touch them.` +
      ` It fast-forwards ${p.base} there at the end only if no tracked file has uncommitted changes then;` +
      ` otherwise the run stops at promotion (exit 3) and prints the command to run.`,
  );
}

/**
 * A supervisor in this process outlives its terminal and its output pipe: from SIGHUP (or the first
 * failed write) on, its lines go to the run's supervisor.log. Returns the SIGHUP handler.
 */
export function outliveTerminal(repoRoot: string, run: string, closeView?: () => void): () => void {
  outliveOutput(supervisorLog(repoRoot, run));
  return () => {
    markOutputLost();
    closeView?.();
    println(`${new Date().toISOString()} the terminal closed; run ${run} goes on without it`);
  };
}

/**
 * How a run ended: its exit code and the state (--json) or a line saying so. `store`: the URL of a
 * distributed run's store, which its resume needs.
 */
export function finishResult(state: RunState, json: boolean, out?: Output, store?: string): CommandResult {
  const exitCode = outcomeExitCode(state);
  if (json) return { exitCode, json: state };
  if (!state.outcome) {
    const on = store ? ` --store ${store}` : '';
    return {
      exitCode,
      lines: [`Run ${state.run} stopped; continue it with: orch state resume${on} --run ${state.run}`],
    };
  }
  const color =
    state.outcome === 'succeeded' ? 'green' : state.outcome === 'needs_attention' ? 'yellow' : 'red';
  const line = `Run ${state.run} ${state.outcome.replace('_', ' ')}${state.reason ? `: ${terminalSafeLine(state.reason)}` : ''}`;
  return { exitCode, lines: [paint(color, line, out)] };
}

/** Prints how a run ended and returns the exit code it means. */
export function finish(state: RunState, json: boolean, store?: string): ExitCode {
  const r = finishResult(state, json, undefined, store);
  if (r.json !== undefined) printJson(r.json);
  for (const l of r.lines ?? []) println(l);
  return r.exitCode;
}

/** The detached supervisor (`orch _supervise`), run in a session of orch's tmux server. */
export async function superviseCommand(
  run: string,
  opts: { noPromote: boolean; resume: boolean },
): Promise<ExitCode> {
  const { resolveRun } = await import('@orch/store');
  const { repoRoot } = await resolveRun({ cwd: process.cwd(), env: process.env, run });
  const orchBin = orchBinPath();
  let resumed = {};
  if (opts.resume) {
    const { planResume, repairForResume } = await import('@orch/engine');
    const { ctx, plan } = await planResume(repoRoot, run, orchBin, { takeReports: true });
    resumed = { ctx, restarts: await repairForResume(ctx, plan) };
  }
  // No onHangup: this supervisor's terminal is orch's own tmux session, and a hangup there means
  // that session or the server was killed (abort, kill-server): it stops cleanly, as before, and
  // its last lines go to the log instead of the dead pane.
  outliveOutput(supervisorLog(repoRoot, run));
  const state = await superviseRun(repoRoot, run, orchBin, {
    ...resumed,
    noPromote: opts.noPromote,
    onEvent: (ev, s) => {
      const line = describeEvent(ev, s);
      if (line) println(line);
    },
  });
  return finish(state, false);
}

/**
 * `orch run` in a terminal: the supervisor runs here and the live dashboard follows its events.
 * Closing the dashboard (q) leaves the run going with plain progress lines; Ctrl-C then stops it.
 */
async function superviseWithDashboard(
  repoRoot: string,
  run: string,
  orchBin: string,
  opts: { noPromote: boolean; ports?: RunPorts },
): Promise<RunState> {
  const { DashboardStore, runInteractive } = await import('@orch/tui');
  const { bellWanted, detailReaders, logPanes } = await import('../views/sources.js');
  const bell = await bellWanted(repoRoot);
  const loc = { repoRoot, run, runDir: runPaths(repoRoot, run).dir };
  const store: InstanceType<typeof DashboardStore> = new DashboardStore({
    readers: detailReaders(loc, () => store.getState()),
  });
  const closeView = new AbortController();
  let viewOpen = true;
  const onHangup = outliveTerminal(repoRoot, run, () => {
    viewOpen = false;
    closeView.abort();
  });
  const view = runInteractive({
    source: store,
    panes: logPanes(loc),
    view: 'dashboard',
    signal: closeView.signal,
    bell,
  }).finally(() => {
    viewOpen = false;
    if (!closeView.signal.aborted) println('Dashboard closed; the run goes on (Ctrl-C stops it).');
  });
  try {
    return await superviseRun(repoRoot, run, orchBin, {
      ...(opts.noPromote ? { noPromote: true } : {}),
      ...(opts.ports ? { ports: opts.ports } : {}),
      onHangup,
      onEvent: (ev, s) => {
        // The view re-reads the state when its event count changes; no copy needed.
        if (viewOpen) store.replace(s);
        else {
          const line = describeEvent(ev, s);
          if (line) println(line);
        }
      },
    });
  } finally {
    // The dashboard redraws at most once a second; let the final state show before closing it.
    if (viewOpen && !isOutputLost()) await new Promise((r) => setTimeout(r, FINAL_FRAME_MS));
    closeView.abort();
    await view.catch(() => undefined);
  }
}

const FINAL_FRAME_MS = 1_500;

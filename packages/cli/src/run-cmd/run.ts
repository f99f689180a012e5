import { createInterface } from 'node:readline/promises';
import type { RunEvent, RunState } from '@orch/core';
import { orchBinPath, prepareRun, stagingBranch, superviseRun, tmuxFor } from '@orch/engine';
import { supervisorSessionName } from '@orch/tmux';
import { paint, printJson, println } from '../output.js';
import { describeEvent, outcomeExitCode } from './progress.js';

interface RunOpts {
  maxWorkers?: number;
  agent?: string;
  model?: string;
  base?: string;
  yes?: boolean;
  detach?: boolean;
  tui?: boolean;
  promote?: boolean;
  json?: boolean;
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

export async function runCommand(planPath: string, opts: RunOpts): Promise<void> {
  const orchBin = orchBinPath();
  const prepared = await prepareRun({
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
  if (prepared.sandbox.notice && opts.json !== true)
    println(paint('yellow', `note: ${prepared.sandbox.notice} (workers.sandbox: auto)`));
  if (opts.detach) {
    const tmux = await tmuxFor(repoRoot);
    const session = supervisorSessionName(run);
    await tmux.newSession({
      name: session,
      cwd: repoRoot,
      argv: [
        process.execPath,
        orchBin,
        '_supervise',
        '--run',
        run,
        ...(opts.promote === false ? ['--no-promote'] : []),
      ],
      env: { ORCH_ROOT: repoRoot },
      logFile: `${repoRoot}/.orchestrator/runs/${run}/supervisor.log`,
    });
    if (opts.json) {
      printJson({ run, detached: true, session, base: prepared.base, staging: stagingBranch(run) });
      return;
    }
    println(
      `Run ${paint('bold', run)} started in the background (${prepared.plan.tasks.length} tasks, base ${prepared.base}).`,
    );
    println(`  watch it:     orch dashboard`);
    println(`  wait for it:  orch wait --timeout 540`);
    println(`  after a stop: orch state resume --run ${run}`);
    return;
  }
  const plain = opts.json !== true;
  if (plain && opts.tui !== false && process.stdout.isTTY && process.stdin.isTTY) {
    const state = await superviseWithDashboard(repoRoot, run, orchBin, { noPromote: opts.promote === false });
    finish(state, false);
    return;
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
    ...(plain
      ? {
          onEvent: (ev: RunEvent, s: RunState) => {
            const line = describeEvent(ev, s);
            if (line) println(line);
          },
        }
      : {}),
  });
  finish(state, opts.json === true);
}

export function finish(state: RunState, json: boolean): void {
  process.exitCode = outcomeExitCode(state);
  if (json) {
    printJson(state);
    return;
  }
  if (!state.outcome) {
    println(`Run ${state.run} stopped; continue it with: orch state resume --run ${state.run}`);
    return;
  }
  const color =
    state.outcome === 'succeeded' ? 'green' : state.outcome === 'needs_attention' ? 'yellow' : 'red';
  println(
    paint(
      color,
      `Run ${state.run} ${state.outcome.replace('_', ' ')}${state.reason ? `: ${state.reason}` : ''}`,
    ),
  );
}

/** The detached supervisor (`orch _supervise`), run in a session of orch's tmux server. */
export async function superviseCommand(
  run: string,
  opts: { noPromote: boolean; resume: boolean },
): Promise<void> {
  const { resolveRun } = await import('@orch/store');
  const { repoRoot } = await resolveRun({ cwd: process.cwd(), env: process.env, run });
  const orchBin = orchBinPath();
  let resumed = {};
  if (opts.resume) {
    const { planResume, repairForResume } = await import('@orch/engine');
    const { ctx, plan } = await planResume(repoRoot, run, orchBin, { takeReports: true });
    resumed = { ctx, restarts: await repairForResume(ctx, plan) };
  }
  const state = await superviseRun(repoRoot, run, orchBin, {
    ...resumed,
    noPromote: opts.noPromote,
    onEvent: (ev, s) => {
      const line = describeEvent(ev, s);
      if (line) println(line);
    },
  });
  finish(state, false);
}

/**
 * `orch run` in a terminal: the supervisor runs here and the live dashboard follows its events.
 * Closing the dashboard (q) leaves the run going with plain progress lines; Ctrl-C then stops it.
 */
async function superviseWithDashboard(
  repoRoot: string,
  run: string,
  orchBin: string,
  opts: { noPromote: boolean },
): Promise<RunState> {
  const { DashboardStore, runInteractive } = await import('@orch/tui');
  const { detailReaders, logPanes } = await import('../views/sources.js');
  const { runPaths } = await import('@orch/store');
  const loc = { repoRoot, run, runDir: runPaths(repoRoot, run).dir };
  const store: InstanceType<typeof DashboardStore> = new DashboardStore({
    readers: detailReaders(loc, () => store.getState()),
  });
  const closeView = new AbortController();
  let viewOpen = true;
  const view = runInteractive({
    source: store,
    panes: logPanes(loc),
    view: 'dashboard',
    signal: closeView.signal,
  }).finally(() => {
    viewOpen = false;
    if (!closeView.signal.aborted) println('Dashboard closed; the run goes on (Ctrl-C stops it).');
  });
  try {
    return await superviseRun(repoRoot, run, orchBin, {
      ...(opts.noPromote ? { noPromote: true } : {}),
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
    if (viewOpen) await new Promise((r) => setTimeout(r, FINAL_FRAME_MS));
    closeView.abort();
    await view.catch(() => undefined);
  }
}

const FINAL_FRAME_MS = 1_500;

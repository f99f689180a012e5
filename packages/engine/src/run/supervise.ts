/**
 * Runs (or continues) the supervisor of a run in this process: SIGINT/SIGTERM stop it cleanly.
 * SIGHUP depends on where it runs: a foreground supervisor (`onHangup` given) outlives the user's
 * terminal and goes on; the detached one stops, as its hangup means orch's own tmux session or
 * server was killed, and the workers with it.
 */
import type { RunEvent, RunState } from '@orch/core';
import { Supervisor } from '../supervisor/supervisor.js';
import { recordCommandsIn } from '../verify/watchdog.js';
import { installDebugLog } from '../debug-log.js';
import { openRunContext, type RunContext, type RunPorts } from './context.js';
import type { Restart } from './resume.js';

export interface SuperviseOptions {
  onEvent?: (ev: RunEvent, state: RunState) => void;
  noPromote?: boolean;
  restarts?: Map<string, Restart>;
  /** Install SIGINT/SIGTERM/SIGHUP handlers (default true). */
  handleSignals?: boolean;
  /** On SIGHUP the run goes on and this is called (the terminal is gone: stop drawing to it). */
  onHangup?: () => void;
  /** An already opened context (resume opens one to reconcile first). */
  ctx?: RunContext;
  /** Ports instead of the local ones (a distributed run's journal, workers and repository). */
  ports?: RunPorts;
}

export async function superviseRun(
  repoRoot: string,
  run: string,
  orchBin: string,
  opts: SuperviseOptions = {},
): Promise<RunState> {
  const ctx = opts.ctx ?? (await openRunContext(repoRoot, run, orchBin, opts.ports));
  // Its checks are recorded in the run folder, so that a resume after this process died ends them.
  recordCommandsIn(ctx.paths.dir);
  installDebugLog(ctx.paths.dir);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  // A listener replaces Node's default for SIGHUP (exit), so the run and its workers outlive the terminal.
  const hangup = opts.onHangup;
  const onHangup = hangup ? (): void => hangup() : onSignal;
  if (opts.handleSignals !== false) {
    for (const s of signals) process.on(s, onSignal);
    process.on('SIGHUP', onHangup);
  }
  try {
    const sup = new Supervisor(ctx, {
      signal: stop.signal,
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
      ...(opts.noPromote ? { noPromote: true } : {}),
      ...(opts.restarts ? { restarts: opts.restarts } : {}),
    });
    return await sup.run();
  } finally {
    for (const s of signals) process.off(s, onSignal);
    recordCommandsIn(undefined);
    process.off('SIGHUP', onHangup);
  }
}

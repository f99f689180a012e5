/**
 * Runs (or continues) the supervisor of a run in this process: SIGINT/SIGTERM stop it cleanly;
 * SIGHUP (the terminal closed) never does, the run goes on without the terminal.
 */
import type { RunEvent, RunState } from '@orch/core';
import { Supervisor } from '../supervisor/supervisor.js';
import { openRunContext, type RunContext } from './context.js';
import type { Restart } from './resume.js';

export interface SuperviseOptions {
  onEvent?: (ev: RunEvent, state: RunState) => void;
  noPromote?: boolean;
  restarts?: Map<string, Restart>;
  /** Install SIGINT/SIGTERM handlers that stop the run cleanly, and ignore SIGHUP (default true). */
  handleSignals?: boolean;
  /** Called on SIGHUP: the terminal is gone, so stop drawing to it (the run itself goes on). */
  onHangup?: () => void;
  /** An already opened context (resume opens one to reconcile first). */
  ctx?: RunContext;
}

export async function superviseRun(
  repoRoot: string,
  run: string,
  orchBin: string,
  opts: SuperviseOptions = {},
): Promise<RunState> {
  const ctx = opts.ctx ?? (await openRunContext(repoRoot, run, orchBin));
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  // A listener replaces Node's default for SIGHUP (exit): the workers and the run outlive the terminal.
  const onHangup = (): void => opts.onHangup?.();
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
    process.off('SIGHUP', onHangup);
  }
}

/**
 * The debug trace: where an error that orch deliberately does not act on (a best-effort cleanup, a
 * probe that may fail) still leaves a line. Pure: code calls `trace`; the process that owns a run
 * installs a sink (the engine writes `.orchestrator/runs/<run>/debug.log` when `ORCH_DEBUG` is set).
 * Without a sink, `trace` does nothing, so tests and library use stay silent.
 */
export type TraceSink = (line: string) => void;

let sink: TraceSink | undefined;

/** Whether ORCH_DEBUG asks for debug output (any value but empty or `0`). */
export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.ORCH_DEBUG;
  return v !== undefined && v !== '' && v !== '0';
}

/** Install (or, with `undefined`, remove) the process-wide sink. Returns the previous one. */
export function setTraceSink(next: TraceSink | undefined): TraceSink | undefined {
  const previous = sink;
  sink = next;
  return previous;
}

/** Record `err` (or a note) under `scope`, e.g. `trace('pool.release', err)`. Never throws. */
export function trace(scope: string, err?: unknown, detail?: string): void {
  if (!sink) return;
  try {
    const what = err === undefined ? '' : err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    sink(`${new Date().toISOString()} ${scope}${detail ? ` ${detail}` : ''}${what ? ` — ${what}` : ''}`);
  } catch {
    // A broken sink must never turn a best-effort path into a failure.
  }
}

/** `promise.catch(traced('scope'))`: swallow as before, but leave a trace line. */
export function traced(scope: string): (err: unknown) => undefined {
  return (err) => {
    trace(scope, err);
    return undefined;
  };
}

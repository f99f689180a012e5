/**
 * The debug log: with ORCH_DEBUG set, every trace line (`trace`/`traced` from @orch/core: errors orch
 * tolerates on purpose) is appended to `.orchestrator/runs/<run>/debug.log`. Without it nothing is
 * written, and the trace stays a no-op.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { debugEnabled, setTraceSink } from '@orch/core';

export const DEBUG_LOG = 'debug.log';

/** Sends the trace to the run's debug log when ORCH_DEBUG is set; returns the file, or undefined. */
export function installDebugLog(runDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!debugEnabled(env)) return undefined;
  const file = join(runDir, DEBUG_LOG);
  // Synchronous appends: a line is on disk before the process can die, and order is kept.
  setTraceSink((line) => appendFileSync(file, `${line}\n`, { mode: 0o600 }));
  return file;
}

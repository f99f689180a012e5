/** Shared by the worker-facing commands: the sender (the run is found by the engine's loadRun). */
import type { CommandIO } from '../../define.js';

export type { LoadedRun, RunOpts, Where } from '@orch/engine';

/** Who a message or context entry is from: --from, else the worker's ORCH_TASK, else `user`. */
export function senderName(from: string | undefined, env: CommandIO['env']): string {
  return from ?? (env.ORCH_TASK || 'user');
}

/** The folder and environment the engine resolves the repository and run from. */
export function whereOf(io: CommandIO): { cwd: string; env: CommandIO['env'] } {
  return { cwd: io.cwd, env: io.env };
}

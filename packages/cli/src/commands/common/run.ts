/** Shared by the worker-facing commands: the sender and reading stdin (the run is found by the engine's loadRun). */

export type { LoadedRun, RunOpts, Where } from '@orch/engine';

/** Who a message or context entry is from: --from, else the worker's ORCH_TASK, else `user`. */
export function senderName(from: string | undefined): string {
  return from ?? (process.env.ORCH_TASK || 'user');
}

export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

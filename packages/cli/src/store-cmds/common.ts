/** Shared by the worker-facing commands: finding the run, the sender, and reading stdin. */
import { OrchError, isTerminalPhase, type RunState } from '@orch/core';
import { loadRunState, resolveRun, runPaths, type ResolvedRun } from '@orch/store';

export interface RunOpts {
  run?: string;
  task?: string;
}

export interface LoadedRun extends ResolvedRun {
  dir: string;
  state: RunState;
}

/** The run a command is about, with its state; fails clearly when it has not started. */
export async function loadRun(opts: RunOpts): Promise<LoadedRun> {
  const r = await resolveRun({
    ...(opts.run ? { run: opts.run } : {}),
    ...(opts.task ? { task: opts.task } : {}),
  });
  const dir = runPaths(r.repoRoot, r.run).dir;
  const state = await loadRunState(dir);
  if (!state) {
    throw new OrchError('ERR_ORCH_RUN_NOT_FOUND', `run ${r.run} has not started yet (its journal is empty)`, {
      hint: 'Wait for `orch run` to start it, or pass another run with --run <id>.',
    });
  }
  return { ...r, dir, state };
}

export function assertRunActive(state: RunState): void {
  if (state.outcome !== undefined || isTerminalPhase(state.phase)) {
    throw new OrchError(
      'ERR_ORCH_RUN_FINISHED',
      `run ${state.run} has finished (${state.outcome ?? state.phase})`,
      {
        hint: 'Status reports and messages only go to a running run; start a new one with `orch run`.',
      },
    );
  }
}

/** Who a message or context entry is from: --from, else the worker's ORCH_TASK, else `user`. */
export function senderName(from: string | undefined): string {
  return from ?? (process.env.ORCH_TASK || 'user');
}

export function requireText(value: string | undefined, what: string, max: number): string {
  const text = (value ?? '').trim();
  if (text === '') {
    throw new OrchError('ERR_ORCH_INVALID_INPUT', `${what} is empty`, { hint: `Give a non-empty ${what}.` });
  }
  if (Buffer.byteLength(text, 'utf8') > max) {
    throw new OrchError('ERR_ORCH_INVALID_INPUT', `${what} is longer than ${max} bytes`, {
      hint: 'Keep it short; put long content in a file and name the file.',
    });
  }
  return text;
}

export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

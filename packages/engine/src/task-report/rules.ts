/**
 * What a task status report (`orch task progress|done|fail|block`) may say, and when the user may
 * send one. A worker's report is checked again by the supervisor when it takes it in.
 */
import { ExitCode, OrchError, type OutboxBody, type RunState } from '@orch/core';

export type TaskReport =
  | { kind: 'progress'; message: string }
  | { kind: 'done'; summary?: string }
  | { kind: 'fail'; reason: string }
  | { kind: 'block'; needs: string; reason: string };

const MAX = 16 * 1024;
const FINISHED = new Set(['merged', 'cancelled', 'failed']);

/** The outbox body of a report, its texts checked (non-empty, at most 16 KiB). */
export function reportBody(report: TaskReport): OutboxBody {
  switch (report.kind) {
    case 'progress':
      return { kind: 'progress', message: requireText(report.message, 'message', MAX) };
    case 'done':
      return report.summary === undefined
        ? { kind: 'done' }
        : { kind: 'done', summary: requireText(report.summary, 'summary', MAX) };
    case 'fail':
      return { kind: 'fail', reason: requireText(report.reason, 'reason', MAX) };
    case 'block':
      return {
        kind: 'block',
        needs: requireText(report.needs, 'needs', MAX),
        reason: requireText(report.reason, 'reason', MAX),
      };
  }
}

/**
 * The user's own reports are checked against the run's state before they are written: the task
 * must be named, be part of the run and still be open.
 */
export function checkUserReport(state: RunState, task: string | undefined): void {
  if (!task) {
    throw new OrchError('ERR_ORCH_NO_TASK', 'which task? none was given', {
      hint: 'Run this inside a worker (ORCH_TASK is set there), or pass --task <id>.',
      exitCode: ExitCode.Usage,
    });
  }
  const t = state.tasks[task];
  if (!t) {
    throw new OrchError(
      'ERR_ORCH_UNKNOWN_TASK',
      `task ${JSON.stringify(task)} is not part of run ${state.run}`,
      {
        hint: `Tasks of this run: ${state.order.join(', ')}`,
      },
    );
  }
  if (FINISHED.has(t.status)) {
    throw new OrchError('ERR_ORCH_TASK_FINISHED', `task ${task} is already ${t.status}`, {
      hint: 'A finished task takes no more reports.',
    });
  }
}

/** A text field of a report or message: trimmed, non-empty, at most `max` bytes. */
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

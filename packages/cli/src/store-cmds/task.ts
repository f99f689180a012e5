/**
 * `orch task progress|done|fail|block`: status reports for the supervisor. A worker's report goes
 * through its own task channel (see submit.ts); only the supervisor writes the journal.
 */
import { OrchError, terminalSafeLine, type OutboxBody } from '@orch/core';
import { paint, printJson, println } from '../output.js';
import { submit, submittedNote, type LoadedRun, type RunOpts } from '@orch/engine';
import { requireText } from './common.js';

export type TaskReport =
  | { kind: 'progress'; message: string }
  | { kind: 'done'; summary?: string }
  | { kind: 'fail'; reason: string }
  | { kind: 'block'; needs: string; reason: string };

const MAX = 16 * 1024;
const FINISHED = new Set(['merged', 'cancelled', 'failed']);

function bodyOf(report: TaskReport): OutboxBody {
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

/** The user's own reports are checked against the run's state before they are written. */
function precheck({ state, task }: LoadedRun): void {
  if (!task) {
    throw new OrchError('ERR_ORCH_NO_TASK', 'which task? none was given', {
      hint: 'Run this inside a worker (ORCH_TASK is set there), or pass --task <id>.',
      exitCode: 2,
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

export async function reportTask(report: TaskReport, opts: RunOpts & { json?: boolean }): Promise<number> {
  const body = bodyOf(report);
  const s = await submit(body, { ...opts, precheck });
  const note = submittedNote(s);
  if (opts.json) {
    printJson({
      run: s.run,
      task: s.task ?? null,
      event: s.verdict?.result ?? null,
      ...(s.queued ? { queued: true } : {}),
      ...(s.offline ? { offline: true } : {}),
    });
  } else {
    const what = s.queued ? paint('yellow', 'sent') : paint('green', 'recorded');
    println(
      terminalSafeLine(
        `${what} ${report.kind} for task ${s.task ?? '?'} (run ${s.run})${note ? `; ${note}` : ''}`,
      ),
    );
  }
  return 0;
}

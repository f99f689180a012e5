/** `orch task progress|done|fail|block`: a worker's status reports, appended to the run journal. */
import { OrchError, type RunEvent, type RunEventInput } from '@orch/core';
import { appendEvent } from '@orch/store';
import { paint, printJson, println } from '../output.js';
import { assertRunActive, loadRun, requireText, type RunOpts } from './common.js';

export type TaskReport =
  | { kind: 'progress'; message: string }
  | { kind: 'done'; summary?: string }
  | { kind: 'fail'; reason: string }
  | { kind: 'block'; needs: string; reason: string };

const MAX = 16 * 1024;
const FINISHED = new Set(['merged', 'cancelled', 'failed']);

export async function reportTask(report: TaskReport, opts: RunOpts & { json?: boolean }): Promise<number> {
  const loaded = await loadRun(opts);
  const task = loaded.task;
  if (!task) {
    throw new OrchError('ERR_ORCH_NO_TASK', 'which task? none was given', {
      hint: 'Run this inside a worker (ORCH_TASK is set there), or pass --task <id>.',
      exitCode: 2,
    });
  }
  assertRunActive(loaded.state);
  const t = loaded.state.tasks[task];
  if (!t) {
    throw new OrchError(
      'ERR_ORCH_UNKNOWN_TASK',
      `task ${JSON.stringify(task)} is not part of run ${loaded.run}`,
      {
        hint: `Tasks of this run: ${loaded.state.order.join(', ')}`,
      },
    );
  }
  if (FINISHED.has(t.status)) {
    throw new OrchError('ERR_ORCH_TASK_FINISHED', `task ${task} is already ${t.status}`, {
      hint: 'A finished task takes no more reports.',
    });
  }
  const evidence = { source: 'status-command' as const, at: new Date().toISOString() };
  let ev: RunEventInput;
  switch (report.kind) {
    case 'progress':
      ev = { type: 'task.progress', task, message: requireText(report.message, 'message', MAX) };
      break;
    case 'done':
      ev = {
        type: 'task.reported',
        task,
        status: 'done',
        ...(report.summary !== undefined ? { summary: requireText(report.summary, 'summary', MAX) } : {}),
        evidence,
      };
      break;
    case 'fail':
      ev = {
        type: 'task.reported',
        task,
        status: 'failed',
        reason: requireText(report.reason, 'reason', MAX),
        evidence,
      };
      break;
    case 'block':
      ev = {
        type: 'task.reported',
        task,
        status: 'blocked',
        needs: requireText(report.needs, 'needs', MAX),
        reason: requireText(report.reason, 'reason', MAX),
        evidence,
      };
      break;
  }
  const written: RunEvent = await appendEvent(loaded.dir, ev);
  if (opts.json) printJson({ run: loaded.run, event: written });
  else println(`${paint('green', 'recorded')} ${report.kind} for task ${task} (run ${loaded.run})`);
  return 0;
}

/**
 * `orch task progress|done|fail|block`: status reports for the supervisor. A worker's report goes
 * through its own task channel (see submit.ts); only the supervisor writes the journal.
 */
import { ExitCode, terminalSafeLine, type RunState } from '@orch/core';
// The two modules a report needs, not all of the engine: every worker runs this command.
import { checkUserReport, reportBody, type TaskReport } from '@orch/engine/task-report/rules';
import type { CommandIO, CommandResult } from '../../define.js';
import { paint } from '../../output.js';
import { storeUrlOf } from '../../run-store.js';
import { submit, submittedNote } from '@orch/engine/report/submit';

/** The user's own reports are checked against the run's state before they are written. */
const precheck = ({ state, task }: { state: RunState; task?: string | undefined }): void =>
  checkUserReport(state, task);

export async function reportTask(
  report: TaskReport,
  opts: { run?: string | undefined; task?: string | undefined; store?: string | undefined; json: boolean },
  io: CommandIO,
): Promise<CommandResult> {
  const body = reportBody(report);
  // A store only when one is named or configured: a worker's report stays on its fast path.
  const url = await storeUrlOf(opts.store, io);
  const s = url
    ? await (
        await import('../../store-submit.js')
      ).submitToStore(url, body, { run: opts.run, task: opts.task, precheck }, io)
    : await submit(body, {
        ...(opts.run !== undefined ? { run: opts.run } : {}),
        ...(opts.task !== undefined ? { task: opts.task } : {}),
        precheck,
        where: { cwd: io.cwd, env: io.env },
      });
  const note = submittedNote(s);
  if (opts.json) {
    return {
      exitCode: ExitCode.Ok,
      json: {
        run: s.run,
        task: s.task ?? null,
        event: s.verdict?.result ?? null,
        ...(s.queued ? { queued: true } : {}),
        ...(s.offline ? { offline: true } : {}),
      },
    };
  }
  const what = s.queued ? paint('yellow', 'sent', io.stdout) : paint('green', 'recorded', io.stdout);
  return {
    exitCode: ExitCode.Ok,
    lines: [
      terminalSafeLine(
        `${what} ${report.kind} for task ${s.task ?? '?'} (run ${s.run})${note ? `; ${note}` : ''}`,
      ),
    ],
  };
}

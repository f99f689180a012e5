/**
 * `orch task progress|done|fail|block`: status reports for the supervisor. A worker's report goes
 * through its own task channel (see submit.ts); only the supervisor writes the journal.
 */
import { ExitCode, terminalSafeLine } from '@orch/core';
// The two modules a report needs, not all of the engine: every worker runs this command.
import { checkUserReport, reportBody, type TaskReport } from '@orch/engine/task-report/rules';
import type { CommandIO, CommandResult } from '../../define.js';
import { paint } from '../../output.js';
import type { LoadedRun } from '../common/run.js';
import { submit, submittedNote } from '@orch/engine/report/submit';

/** The user's own reports are checked against the run's state before they are written. */
const precheck = ({ state, task }: LoadedRun): void => checkUserReport(state, task);

export async function reportTask(
  report: TaskReport,
  opts: { run?: string | undefined; task?: string | undefined; json: boolean },
  io: CommandIO,
): Promise<CommandResult> {
  const body = reportBody(report);
  const s = await submit(body, {
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

import { ExitCode, terminalSafeLine as safe, type RunEvent, type RunState } from '@orch/core';
import { paint } from '../../output.js';

const time = (ts: string): string => ts.slice(11, 19);

/**
 * One plain progress line per interesting event (the no-TUI view of a run). Messages, summaries
 * and reasons come from workers: control characters are neutralised.
 */
export function describeEvent(ev: RunEvent, s: RunState): string | undefined {
  const at = paint('dim', time(ev.ts));
  switch (ev.type) {
    case 'task.started':
      return `${at} ${ev.task} ${paint('cyan', 'running')} (attempt ${ev.attempt}, ${safe(ev.agent)}${ev.model ? ` ${safe(ev.model)}` : ''})`;
    case 'task.progress':
      return `${at} ${ev.task} ${paint('dim', safe(ev.message))}`;
    case 'task.placed':
      return `${at} ${ev.task} on host ${safe(ev.host)} (attempt ${ev.attempt})`;
    case 'task.reported':
      return `${at} ${ev.task} reported ${ev.status}${ev.summary ? `: ${safe(ev.summary)}` : ev.reason ? `: ${safe(ev.reason)}` : ''}`;
    case 'task.verifying':
      return `${at} ${ev.task} ${paint('blue', 'verifying')}`;
    case 'task.merged':
      return `${at} ${ev.task} ${paint('green', 'merged')} into staging (${ev.commit.slice(0, 8)})`;
    case 'task.failed':
      return `${at} ${ev.task} ${paint('red', ev.final ? 'failed' : 'rejected')} (${ev.category}): ${safe(ev.reason)}`;
    case 'task.retry':
      return `${at} ${ev.task} ${paint('yellow', 'retry')} ${ev.attempt}`;
    case 'task.cancelled':
      return `${at} ${ev.task} ${paint('gray', 'cancelled')}: ${safe(ev.reason)}`;
    case 'task.blocked':
      return `${at} ${ev.task} ${paint('yellow', 'blocked')}: ${safe(ev.reason)}`;
    case 'run.phase':
      return `${at} run ${paint('bold', ev.phase)}${ev.reason ? `: ${safe(ev.reason)}` : ''}`;
    case 'merge.batch':
      // A batch of one says nothing its task.merged line does not.
      return ev.tasks.length > 1
        ? `${at} merged ${ev.landed.length} of a batch of ${ev.tasks.length} with ${ev.checks} check${ev.checks === 1 ? '' : 's'}`
        : undefined;
    case 'integration.finished':
      return `${at} final integration ${ev.ok ? paint('green', 'passed') : paint('red', `failed: ${safe(ev.reason ?? '')}`)}`;
    case 'promotion.finished':
      return ev.ok
        ? `${at} ${paint('green', 'promoted')} ${ev.branch} ${ev.from?.slice(0, 8)} → ${ev.to?.slice(0, 8)}`
        : `${at} ${paint('yellow', 'promotion stopped')}: ${safe(ev.reason ?? '')}${ev.command ? `\n         run: ${safe(ev.command)}` : ''}`;
    // Named one by one, so a new event type is a decision here (the lint fails until it is made).
    case 'check.passed':
    case 'env.changed':
    case 'repair':
    case 'review.finished':
    case 'run.finished':
    case 'run.started':
    case 'staging.moved':
    case 'staging.verified':
    case 'supervisor.started':
    case 'supervisor.stopped':
    case 'task.activity':
    case 'task.attention':
    case 'task.exited':
    case 'task.idle':
    case 'task.merging':
    case 'task.pane_gone':
    case 'task.ready':
    case 'task.reset':
    case 'task.timed_out':
    case 'task.unblocked':
    case 'task.verified':
    case 'task.worktree':
    case 'tasks.added':
    case 'worker.rejected':
    case 'workers.throttled':
      void s;
      return undefined;
  }
}

/** Exit code of a run's state (`orch run`, `orch wait`, `orch state status`, `orch state resume`). */
export function outcomeExitCode(s: RunState): ExitCode {
  switch (s.outcome) {
    case 'succeeded':
      return ExitCode.Ok;
    case 'needs_attention':
      return ExitCode.NeedsApproval;
    case 'failed':
    case 'aborted':
      return ExitCode.Failed;
    case undefined:
      return s.phase === 'needs_attention' ? ExitCode.NeedsApproval : ExitCode.NotFinished;
  }
}

import { ExitCode, type RunEvent, type RunState } from '@orch/core';
import { paint } from '../output.js';

const time = (ts: string): string => ts.slice(11, 19);

/** One plain progress line per interesting event (the no-TUI view of a run). */
export function describeEvent(ev: RunEvent, s: RunState): string | undefined {
  const at = paint('dim', time(ev.ts));
  switch (ev.type) {
    case 'task.started':
      return `${at} ${ev.task} ${paint('cyan', 'running')} (attempt ${ev.attempt}, ${ev.agent}${ev.model ? ` ${ev.model}` : ''})`;
    case 'task.progress':
      return `${at} ${ev.task} ${paint('dim', ev.message)}`;
    case 'task.reported':
      return `${at} ${ev.task} reported ${ev.status}${ev.summary ? `: ${ev.summary}` : ev.reason ? `: ${ev.reason}` : ''}`;
    case 'task.verifying':
      return `${at} ${ev.task} ${paint('blue', 'verifying')}`;
    case 'task.merged':
      return `${at} ${ev.task} ${paint('green', 'merged')} into staging (${ev.commit.slice(0, 8)})`;
    case 'task.failed':
      return `${at} ${ev.task} ${paint('red', ev.final ? 'failed' : 'rejected')} (${ev.category}): ${ev.reason}`;
    case 'task.retry':
      return `${at} ${ev.task} ${paint('yellow', 'retry')} ${ev.attempt}`;
    case 'task.cancelled':
      return `${at} ${ev.task} ${paint('gray', 'cancelled')}: ${ev.reason}`;
    case 'task.blocked':
      return `${at} ${ev.task} ${paint('yellow', 'blocked')}: ${ev.reason}`;
    case 'run.phase':
      return `${at} run ${paint('bold', ev.phase)}${ev.reason ? `: ${ev.reason}` : ''}`;
    case 'integration.finished':
      return `${at} final integration ${ev.ok ? paint('green', 'passed') : paint('red', `failed: ${ev.reason ?? ''}`)}`;
    case 'promotion.finished':
      return ev.ok
        ? `${at} ${paint('green', 'promoted')} ${ev.branch} ${ev.from?.slice(0, 8)} → ${ev.to?.slice(0, 8)}`
        : `${at} ${paint('yellow', 'promotion stopped')}: ${ev.reason ?? ''}${ev.command ? `\n         run: ${ev.command}` : ''}`;
    default:
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
    default:
      return s.phase === 'needs_attention' ? ExitCode.NeedsApproval : ExitCode.NotFinished;
  }
}

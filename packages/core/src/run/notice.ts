/**
 * The moments a run needs a person, or has finished: which journal events are worth telling
 * someone about (a notification command, a desktop notification, the dashboard's bell). Pure:
 * delivering them is the engine's (`engine/src/supervisor/notify.ts`).
 */
import type { RunEvent } from './events.js';
import type { RunState } from './state.js';
import { terminalSafeLine } from '../text/terminal.js';

export const NOTICE_KINDS = ['needs-decision', 'dependency-request', 'escalation', 'finished'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** What a notification command receives on stdin, one JSON document per notice. */
export interface Notice {
  kind: NoticeKind;
  run: string;
  task?: string;
  /** One line for a person, e.g. `orch: api needs a decision`. */
  title: string;
  /** One line: the question, the package asked for, the outcome; worker text made terminal-safe. */
  message: string;
  /** What to run next. */
  hint: string;
  /** Identifies the event: a notice is delivered once per key, across supervisor restarts. */
  key: string;
  /** The journal event itself. */
  event: RunEvent;
}

/** Worker text in a one-line message: no control characters, no markup, bounded. */
const clip = (s: string): string => {
  const line = terminalSafeLine(s).replace(/[<>&]/g, ' ');
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
};

/** The notice an event calls for, if any. */
export function noticeFor(ev: RunEvent, run: string): Notice | undefined {
  const key = [ev.type, 'task' in ev ? ev.task : '', ev.ts, ev.item ?? ''].join('|');
  const base = { run, key, event: ev };
  switch (ev.type) {
    case 'task.attention':
      return {
        ...base,
        kind: 'needs-decision',
        task: ev.task,
        title: `orch: ${clip(ev.task)} needs a decision`,
        message: clip(ev.reason),
        hint: `orch mailbox send ${ev.task} "<your answer>"`,
      };
    case 'task.blocked':
      if (!ev.needs) return undefined;
      return {
        ...base,
        kind: 'dependency-request',
        task: ev.task,
        title: `orch: ${clip(ev.task)} asks for a dependency`,
        message: clip(ev.needs),
        hint: `orch deps list --run ${run}, then orch deps approve|deny`,
      };
    case 'run.finished': {
      const escalated = ev.outcome === 'needs_attention' || ev.outcome === 'failed';
      return {
        ...base,
        kind: escalated ? 'escalation' : 'finished',
        title: escalated
          ? `orch: run ${run} ${ev.outcome === 'failed' ? 'failed' : 'needs you'}`
          : `orch: run ${run} ${ev.outcome}`,
        message: clip(ev.reason ?? ev.outcome),
        hint: escalated
          ? `orch state status --run ${run} (the run folder holds escalation-report.md)`
          : `orch state status --run ${run}`,
      };
    }
    default:
      return undefined;
  }
}

/**
 * What in a state waits for a person (open questions, dependency requests, an ended run), as
 * keys: the dashboard rings its bell when a key appears that the previous state did not have.
 */
export function attentionKeys(state: RunState | undefined): Set<string> {
  const out = new Set<string>();
  if (!state) return out;
  for (const [id, t] of Object.entries(state.tasks)) {
    if (t.attention) out.add(`decision:${id}:${t.attention}`);
    if (t.status === 'blocked' && t.blockedNeeds) out.add(`dependency:${id}:${t.blockedNeeds}`);
  }
  if (state.outcome) out.add(`finished:${state.outcome}`);
  return out;
}

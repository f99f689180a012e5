import { useEffect, useState } from 'react';
import type { DashboardSource, MailboxItem } from '../source.js';

export interface TaskDetailData {
  log: string[];
  verification?: string[] | undefined;
  mailbox: MailboxItem[];
}

const EMPTY: TaskDetailData = { log: [], mailbox: [] };

function failed(e: unknown): string[] {
  return [`(cannot read: ${e instanceof Error ? e.message : String(e)})`];
}

/** Loads a task's log tail, verification report and mailbox, again whenever `refresh` changes. */
export function useTaskDetail(
  source: DashboardSource,
  task: string | undefined,
  refresh: unknown,
  logLines = 200,
): TaskDetailData {
  const [data, setData] = useState<TaskDetailData>(EMPTY);
  useEffect(() => {
    if (task === undefined) return undefined;
    let live = true;
    void Promise.all([
      source.readLogTail(task, logLines).catch(failed),
      source.readVerification(task).catch(failed),
      source.readMailbox(task).catch((e: unknown) => failed(e).map((text) => ({ text }))),
    ]).then(([log, verification, mailbox]) => {
      if (live) setData({ log, verification, mailbox });
    });
    return () => {
      live = false;
    };
  }, [source, task, refresh, logLines]);
  return task === undefined ? EMPTY : data;
}

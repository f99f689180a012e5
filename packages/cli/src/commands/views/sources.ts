/**
 * Feeds the TUI from a run directory: detail readers (log tail, verification report, mailbox) and
 * pane sources (worker log tails, or tmux captures on orch's own socket).
 */
import { readFile } from 'node:fs/promises';

import type { RunState, TaskState } from '@orch/core';
import { Mailbox, runDirPaths } from '@orch/store';
import type { DetailReaders, MailboxItem, PaneSource } from '@orch/tui';
import { pathInside, reportLines, tailFile } from './files.js';

export interface RunLocation {
  repoRoot: string;
  runDir: string;
}

/** The task's log: the journaled path when it is inside the repository, else `logs/<task>.log`. */
export function logPathOf(
  loc: RunLocation,
  task: Pick<TaskState, 'id' | 'logPath'> | undefined,
  id: string,
): string | undefined {
  const journaled = pathInside(loc.repoRoot, task?.logPath);
  if (journaled) return journaled;
  return pathInside(runDirPaths(loc.runDir).logs, `${id}.log`);
}

export function detailReaders(loc: RunLocation, getState: () => RunState | undefined): DetailReaders {
  const task = (id: string): TaskState | undefined => getState()?.tasks[id];
  return {
    async readLogTail(id, lines) {
      const p = logPathOf(loc, task(id), id);
      return p ? tailFile(p, lines) : [];
    },
    async readVerification(id) {
      const t = task(id);
      const p = pathInside(loc.repoRoot, t?.verificationReport ?? t?.failure?.reportPath);
      if (!p) return undefined;
      try {
        return reportLines(await readFile(p, 'utf8'));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    async readMailbox(id) {
      const state = getState();
      if (!state) return [];
      const all = await new Mailbox(loc.runDir, { tasks: state.order }).history();
      return all
        .filter((m) => m.to === id || m.from === id || m.to === 'all')
        .map((m): MailboxItem => ({ ts: m.ts, from: m.from, to: m.to, text: m.body }));
    },
  };
}

/** Worker output from each worker's log file. */
export function logPanes(loc: RunLocation): PaneSource {
  return {
    async capture(task, lines) {
      const p = logPathOf(loc, task, task.id);
      return p ? tailFile(p, lines) : [];
    },
  };
}

/** Worker output from `capture-pane` on orch's private tmux server, falling back to the log. */
export async function tmuxPanes(loc: RunLocation): Promise<PaneSource> {
  const { TmuxServer, socketNameFor } = await import('@orch/tmux');
  const server = new TmuxServer({ socket: socketNameFor(loc.repoRoot) });
  const logs = logPanes(loc);
  return {
    async capture(task, lines) {
      if (task.session) {
        try {
          const text = await server.capture(task.session, { lines });
          return text.split('\n').slice(-lines);
        } catch {
          // the session is gone (the worker finished or was never started here): use its log
        }
      }
      return logs.capture(task, lines);
    },
  };
}

/** The config's `notify.bell` for the dashboard of a repository; a config that does not load means on. */
export async function bellWanted(repoRoot: string): Promise<boolean> {
  const { loadConfig } = await import('@orch/core');
  return loadConfig(repoRoot).then(
    (c) => c.notify.bell,
    () => true,
  );
}

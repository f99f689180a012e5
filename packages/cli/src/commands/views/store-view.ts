/**
 * `orch dashboard --store` and `orch workers --store`: the views of a run kept in Redis, from any
 * machine. The state comes from the run's stream, worker output from the tails the hosts stream to
 * the store, the HOST column from each attempt's worker record; nothing reads the supervisor's files
 * (verification reports stay on its machine and are not shown here).
 */
import { traced, type RunState } from '@orch/core';
import type { DetailReaders, MailboxItem, PaneSource } from '@orch/tui';
import type { CommandIO, CommandResult } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';
import { useColor } from '../../output.js';
import { plainWidth, workersSnapshot } from './open-view.js';
import { openStoreRun, type StoreRun } from '../../run-store.js';
import type { ViewOptions } from './open-view.js';

/** How often the live view looks up where attempts run (hosts change without log entries). */
const HOSTS_MS = 2_000;

/** The state as the views show it: the supervisor alive while its lease is. */
async function viewState(sr: StoreRun): Promise<RunState> {
  return { ...sr.state(), supervisorAlive: (await sr.supervisor()) !== undefined };
}

async function hostsOf(sr: StoreRun, state: RunState): Promise<Map<string, string>> {
  const { workerHosts } = await import('@orch/distributed');
  return workerHosts(
    sr.redis,
    sr.keys,
    sr.run,
    state.order.map((id) => ({ id, session: state.tasks[id]?.session })),
  );
}

function storePanes(sr: StoreRun): PaneSource {
  return {
    async capture(task, lines) {
      if (!task.session) return [];
      const { workerOutputTail } = await import('@orch/distributed');
      return workerOutputTail(sr.redis, sr.keys, sr.run, task.session, lines);
    },
  };
}

function storeReaders(sr: StoreRun, getState: () => RunState | undefined): DetailReaders {
  const panes = storePanes(sr);
  return {
    async readLogTail(id, lines) {
      const t = getState()?.tasks[id];
      return t ? panes.capture(t, lines) : [];
    },
    readVerification: async () => undefined,
    async readMailbox(id) {
      const all = await sr.mailbox.history();
      return all
        .filter((m) => m.to === id || m.from === id || m.to === 'all')
        .map((m): MailboxItem => ({ ts: m.ts, from: m.from, to: m.to, text: m.body }));
    },
  };
}

async function live(sr: StoreRun, view: 'dashboard' | 'workers'): Promise<void> {
  const { DashboardStore, runInteractive } = await import('@orch/tui');
  const store: InstanceType<typeof DashboardStore> = new DashboardStore({
    state: await viewState(sr),
    readers: storeReaders(sr, () => store.getState()),
  });
  const lookUp = (): void => {
    void (async () => {
      const s = await viewState(sr);
      store.setHosts(await hostsOf(sr, s));
      store.replace(s);
    })().catch(traced('dashboard.store'));
  };
  const stop = sr.log.subscribe(lookUp);
  sr.log.follow();
  lookUp();
  const timer = setInterval(lookUp, HOSTS_MS);
  try {
    await runInteractive({ source: store, panes: storePanes(sr), view });
  } finally {
    clearInterval(timer);
    stop();
  }
}

/** Whether the command prints one frame (or JSON) rather than drawing live. */
type Plain = (opts: ViewOptions, io: CommandIO) => boolean;

export async function storeDashboard(
  url: string,
  opts: ViewOptions,
  io: CommandIO,
  wantsPlain: Plain,
): Promise<CommandResult> {
  const sr = await openStoreRun(url, opts.run, io);
  try {
    const state = await viewState(sr);
    const hosts = await hostsOf(sr, state);
    if (opts.json) return { exitCode: ExitCode.Ok, json: { ...state, hosts: Object.fromEntries(hosts) } };
    if (wantsPlain(opts, io)) {
      const { renderPlainDashboard } = await import('@orch/tui');
      const frame = renderPlainDashboard(state, { width: plainWidth(io), color: useColor(io.stdout), hosts });
      return { exitCode: ExitCode.Ok, lines: [frame.replace(/\n$/, '')] };
    }
    await live(sr, 'dashboard');
    return { exitCode: ExitCode.Ok };
  } finally {
    sr.close();
  }
}

export async function storeWorkers(
  url: string,
  opts: ViewOptions,
  io: CommandIO,
  wantsPlain: Plain,
): Promise<CommandResult> {
  const sr = await openStoreRun(url, opts.run, io);
  try {
    if (!opts.json && !wantsPlain(opts, io)) {
      await live(sr, 'workers');
      return { exitCode: ExitCode.Ok };
    }
    const state = await viewState(sr);
    const hosts = await hostsOf(sr, state);
    return {
      exitCode: ExitCode.Ok,
      ...(await workersSnapshot(state, storePanes(sr), io, !!opts.json, hosts)),
    };
  } finally {
    sr.close();
  }
}

/**
 * The live dashboard over a run that this process supervises. ink reads keys from a relay of the
 * terminal's stdin, so the demo can close the dashboard itself (by sending `q`) once the run ends;
 * a user who quits it early keeps the run going with plain progress lines.
 */
import { PassThrough } from 'node:stream';
import type { RunState } from '@orch/core';
import { DashboardStore, runInteractive } from '@orch/tui';
import { detailReaders, logPanes, type RunLocation } from '../views/sources.js';

export interface LiveDashboard {
  store: DashboardStore;
  /** True while the dashboard is on screen. */
  readonly open: boolean;
  /** Closes the dashboard (after `lingerMs`, so the last frame is seen) and waits until it is gone. */
  close(lingerMs?: number): Promise<void>;
}

/** A stdin that ink can put in raw mode and read from, fed by the real terminal. */
function relayStdin(): { stream: NodeJS.ReadStream; send: (s: string) => void; detach: () => void } {
  const tty = process.stdin;
  const relay = new PassThrough() as PassThrough & Partial<NodeJS.ReadStream>;
  Object.assign(relay, {
    isTTY: true,
    setRawMode(mode: boolean) {
      tty.setRawMode(mode);
      return relay;
    },
    ref() {
      tty.ref();
      return relay;
    },
    unref() {
      tty.unref();
      return relay;
    },
  });
  const forward = (chunk: Buffer): void => {
    relay.write(chunk);
  };
  tty.on('data', forward);
  return {
    stream: relay as unknown as NodeJS.ReadStream,
    send: (s) => relay.write(s),
    detach: () => {
      tty.off('data', forward);
      if (tty.isRaw) tty.setRawMode(false);
      tty.pause();
    },
  };
}

export function openDashboard(loc: RunLocation, onEarlyQuit: () => void): LiveDashboard {
  let open = true;
  let closing = false;
  const store: DashboardStore = new DashboardStore({
    readers: detailReaders(loc, (): RunState | undefined => store.getState()),
  });
  const input = relayStdin();
  const done = runInteractive({ source: store, panes: logPanes(loc), stdin: input.stream })
    .catch(() => undefined)
    .finally(() => {
      open = false;
      input.detach();
      if (!closing) onEarlyQuit();
    });
  return {
    store,
    get open() {
      return open;
    },
    async close(lingerMs = 1500) {
      if (!open) return;
      closing = true;
      await new Promise((r) => setTimeout(r, lingerMs));
      input.send('q');
      await done;
    },
  };
}

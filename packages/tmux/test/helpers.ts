import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tmuxFixture } from '@orch/test-utils';
import { TmuxServer } from '../src/server.js';

/** A server from this package's sources on a fixture's random socket, plus a temp dir; all removed by `cleanup`. */
export async function setup(env?: Record<string, string>) {
  const fx = await tmuxFixture(env ? { env } : {});
  const dir = await mkdtemp(join(tmpdir(), 'orch-tmux-test-'));
  const server = new TmuxServer({ socket: fx.socket, ...(env ? { env } : {}) });
  return {
    server,
    socket: fx.socket,
    dir,
    cleanup: async () => {
      await fx.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until `check` holds (a bounded wait for asynchronous output, not a timing assertion). */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (v: T) => boolean,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (check(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const readLog = (path: string) => () => readFile(path, 'utf8').catch(() => '');

/** argv of a node program that prints its own arguments as JSON. */
export const printArgs = (...args: string[]) => [
  process.execPath,
  '-e',
  'console.log("ARGS" + JSON.stringify(process.argv.slice(1)))',
  ...args,
];

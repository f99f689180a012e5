import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { TmuxServer } from '@orch/tmux';

export interface TmuxFixture {
  server: TmuxServer;
  socket: string;
  /** Kills the fixture's server (only its own socket) and removes the socket file. Safe to call twice. */
  cleanup: () => Promise<void>;
}

/**
 * A private tmux server on a random socket name for one test. Nothing is started until the first
 * session; `cleanup()` kills that server and nothing else.
 */
export async function tmuxFixture(
  opts: { env?: Record<string, string>; configDir?: string } = {},
): Promise<TmuxFixture> {
  const socket = `orch-test-${randomBytes(6).toString('hex')}`;
  const server = new TmuxServer({ socket, ...(opts.env ? { env: opts.env } : {}) });
  if (opts.configDir !== undefined) await server.ensureConfig(opts.configDir);
  const cleanup = async (): Promise<void> => {
    await server.killServer();
    await rm(server.socketPath(), { force: true });
  };
  return { server, socket, cleanup };
}

/** orch's private tmux server as the engine's `WorkerRuntime` port: one session per worker. */
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { supervisorSessionName, type TmuxServer } from '@orch/tmux';
import { tailLines } from '../verify/run-command.js';
import type { SupervisorSession } from './supervisor-session.js';
import type { WorkerRuntime } from './worker-runtime.js';

export function tmuxWorkers(server: TmuxServer): WorkerRuntime {
  return {
    async start(spec) {
      await server.newSession({
        name: spec.name,
        cwd: spec.cwd,
        argv: spec.argv,
        env: spec.env,
        logFile: spec.logFile,
      });
    },
    kill: (name) => server.killSession(name),
    async state(name) {
      const p = await server.paneState(name);
      return {
        exists: p.exists,
        dead: p.dead,
        exitStatus: p.exitStatus,
        ...(p.pid !== null ? { pid: p.pid } : {}),
      };
    },
    async waitForExit(name, opts) {
      await server.waitForExit(name, opts);
    },
    // The pane's output is piped to the log file from its first byte.
    async outputSize(ref) {
      if (!ref.logFile) return 0;
      return (await stat(ref.logFile).catch(() => undefined))?.size ?? 0;
    },
    async outputTail(ref, lines) {
      if (!ref.logFile) return '';
      return tailLines(await readFile(ref.logFile, 'utf8').catch(() => ''), lines);
    },
    hiddenPaths: () => [dirname(server.socketPath())],
  };
}

/** A run's supervisor session on orch's private tmux server. */
export function tmuxSupervisorSession(server: TmuxServer, run: string): SupervisorSession {
  const name = supervisorSessionName(run);
  return {
    name,
    async state() {
      const p = await server.paneState(name);
      return { exists: p.exists, dead: p.dead };
    },
    remove: () => server.killSession(name),
    closeOnExit: () => server.closeOnExit(name),
  };
}

/**
 * Starting a run's supervisor in the background: `orch _supervise` in a session of orch's own tmux
 * server, its output in the run's supervisor.log. `orch run --detach` and `orch state resume
 * --detach` (or the resume of a run that was detached) both start it here, for a local run and
 * for a distributed one (`--store`) alike.
 */
import { rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { OrchError } from '@orch/core';
import { runPaths, writeFileAtomic } from '@orch/store';
import { supervisorSessionName } from '@orch/tmux';
import { tmuxFor } from './context.js';

/** Where a supervisor's lines go when no terminal shows them (detached, or after a hangup). */
export function supervisorLog(repoRoot: string, run: string): string {
  return join(runPaths(repoRoot, run).dir, 'supervisor.log');
}

/**
 * Where a detached supervisor of a distributed run finds the store's password when it was given
 * in the environment (ORCH_REDIS_PASSWORD): a file only its owner reads, in the run's private
 * folder, which the supervisor removes as soon as it has read it. Never a command line.
 */
export function supervisorSecretFile(repoRoot: string, run: string): string {
  return join(runPaths(repoRoot, run).dir, 'store.password');
}

/** The store of a distributed run, as its detached supervisor is told of it. */
export interface DetachedStore {
  /** `--store`: the store's URL (it holds no password). */
  url: string;
  /** `--remote`: the shared git remote. */
  remote: string;
  /** `--workdir`: away from the user's checkout, the supervisor's own folder (a clone of the remote). */
  workdir?: string;
  /** The password, when it came from the environment: handed over in `supervisorSecretFile`. */
  password?: string;
  /**
   * Variables the supervisor needs that name files (ORCH_REDIS_PASSWORD_FILE, ORCH_REDIS_CA_FILE,
   * ORCH_RUN_KEY_FILE, …): absolute paths, never secrets; tmux puts them on its command line.
   */
  fileEnv?: Record<string, string>;
}

export interface DetachOptions {
  repoRoot: string;
  run: string;
  /** The `orch` entry point the session runs (`orchBinPath()`). */
  orchBin: string;
  /** Continue an interrupted run (`_supervise --resume`) instead of starting a prepared one. */
  resume?: boolean;
  /** Leave the result on staging (`--no-promote`). */
  noPromote?: boolean;
  /** A distributed run: the supervisor works on this store and remote. */
  store?: DetachedStore;
}

/** The supervisor's environment and `_supervise` arguments for a distributed run. */
async function storeHandover(o: DetachOptions & { store: DetachedStore }) {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.store.fileEnv ?? {})) {
    if (!/^ORCH_[A-Z_]+_FILE$/.test(k) || !isAbsolute(v)) {
      throw new OrchError('ERR_ORCH_USAGE', `${k}=${v} is not a file variable with an absolute path`, {
        hint: 'Only the ORCH_*_FILE variables (absolute paths) are handed to a detached supervisor.',
      });
    }
    env[k] = v;
  }
  const secret = supervisorSecretFile(o.repoRoot, o.run);
  if (o.store.password !== undefined) {
    await writeFileAtomic(secret, `${o.store.password}\n`, { mode: 0o600 });
    env.ORCH_REDIS_PASSWORD_FILE = secret;
  } else {
    // A handover left by a supervisor that never started must not stand in for the user's file.
    await rm(secret, { force: true });
  }
  return {
    env,
    args: [
      ...['--store', o.store.url, '--remote', o.store.remote],
      ...(o.store.workdir !== undefined ? ['--workdir', o.store.workdir] : []),
    ],
  };
}

/** Starts the supervisor session (replacing a leftover one on resume) and returns its name. */
export async function startDetachedSupervisor(o: DetachOptions): Promise<{ session: string }> {
  const handover = o.store ? await storeHandover({ ...o, store: o.store }) : { env: {}, args: [] };
  const tmux = await tmuxFor(o.repoRoot);
  const session = supervisorSessionName(o.run);
  // A resumed run's old session may still exist with a dead supervisor in it.
  if (o.resume) await tmux.killSession(session);
  await tmux.newSession({
    name: session,
    cwd: o.repoRoot,
    argv: [
      process.execPath,
      o.orchBin,
      '_supervise',
      '--run',
      o.run,
      ...(o.noPromote ? ['--no-promote'] : []),
      ...(o.resume ? ['--resume'] : []),
      ...handover.args,
    ],
    env: { ...handover.env, ORCH_ROOT: o.repoRoot },
    logFile: supervisorLog(o.repoRoot, o.run),
  });
  return { session };
}

/**
 * The OS sandbox of an attempt on a host: the run's `workers.sandbox` decided by this host's own
 * probe, and the same bubblewrap layout as on the supervisor's machine (`placeSandboxLayout`) with
 * this host's paths. The whole work directory is hidden (its identity keys, its shared ssh
 * connection, other attempts' worktrees, channels and logs, its tmux config); only the attempt's
 * own parts are bound back: the clone read-only with its objects writable, the attempt's worktree
 * and its branch's ref folders, its task channel, the `orch` shim. The store's password is neither
 * in the worker's environment nor readable through its file.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { OrchError, type Config } from '@orch/core';
import {
  decideSandbox,
  placeSandboxLayout,
  probeSandbox,
  worktreeGitDirs,
  type SandboxDecision,
  type SandboxProbe,
  type SandboxLayout,
} from '@orch/engine';
import { orchPaths, runPaths, taskChannelPaths } from '@orch/store';

/** Variables only the host may hold: the store's password (and where its file is). */
const HOST_SECRET = /^ORCH_REDIS_PASSWORD/;

/** The host's environment as its workers and their setup commands may see it: without the password. */
export function workerBaseEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !HOST_SECRET.test(k)) out[k] = v;
  return out;
}

/** Where one attempt runs on a host. */
export interface HostSandboxPlace {
  /** The host's name, for its messages. */
  host: string;
  /** The host's `--workdir`: hidden as a whole. */
  workdir: string;
  /** The host's bare clone (`DIR/repo.git`). */
  clone: string;
  /** ORCH_ROOT of the host's workers (`DIR/root`). */
  root: string;
  /** The folder of the `orch` shim. */
  shimDir: string;
  run: string;
  task: string;
  worktree: string;
  /** The worker runtime's own files (its tmux socket folder). */
  runtimeHidden: readonly string[];
  /** The host's environment (its HOME, where its password file is). */
  env: NodeJS.ProcessEnv;
}

export interface HostSandbox extends SandboxDecision {
  /** The layout for the agent's environment, when `on`. */
  layout?: (agentEnv: Record<string, string>) => Promise<SandboxLayout>;
}

/**
 * Whether this host runs the attempt sandboxed, and how. `on` without a working bwrap here is an
 * error naming the host; `auto` falls back with a notice for the worker's log.
 */
export async function hostSandbox(
  config: Config,
  p: HostSandboxPlace,
  agent: string,
  probe: () => Promise<SandboxProbe> = probeSandbox,
): Promise<HostSandbox> {
  let decision: SandboxDecision;
  try {
    decision = await decideSandbox(config, probe);
  } catch (e) {
    if (e instanceof OrchError)
      throw new OrchError(e.code, `host ${p.host}: ${e.message}`, {
        ...(e.hint ? { hint: e.hint } : {}),
        cause: e,
      });
    throw e;
  }
  if (!decision.on)
    return decision.notice ? { on: false, notice: `host ${p.host}: ${decision.notice}` } : decision;
  return { on: true, layout: (agentEnv) => hostSandboxLayout(p, agentEnv, agent) };
}

/** The attempt's sandbox layout with this host's paths (see the module comment). */
export async function hostSandboxLayout(
  p: HostSandboxPlace,
  agentEnv: Record<string, string>,
  agent: string,
): Promise<SandboxLayout> {
  const home = p.env.HOME ?? homedir();
  const passwordFile = p.env.ORCH_REDIS_PASSWORD_FILE;
  return placeSandboxLayout(
    {
      repoRoot: p.clone,
      gitDirs: await worktreeGitDirs({ commonDir: p.clone }, p.run, p.task, p.worktree),
      worktree: p.worktree,
      orchDir: orchPaths(p.root).orchDir,
      channelDir: taskChannelPaths(runPaths(p.root, p.run).dir, p.task).dir,
      orchReadable: [p.shimDir],
      hidden: [p.workdir, ...p.runtimeHidden],
      // The host's git identity, for the worker's commits, also when HOME is in the work directory.
      readable: [join(home, '.gitconfig'), join(home, '.config', 'git')],
      hiddenFiles: passwordFile ? [resolve(passwordFile)] : [],
    },
    agentEnv,
    agent,
  );
}

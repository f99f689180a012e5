/**
 * Whether workers run inside bubblewrap, and the layout of a task's sandbox (see `sandbox-args.ts`).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { OrchError, type Config, traced } from '@orch/core';
import { orchPaths, taskChannelPaths } from '@orch/store';
import { assetsRoot } from '../assets.js';
import type { RunContext } from '../run/context.js';
import type { WorkspaceGitDirs } from '../ports/workspaces.js';
import type { SandboxLayout } from './sandbox-args.js';

export interface SandboxProbe {
  ok: boolean;
  /** Why not, in one line. */
  reason?: string;
}

let cached: Promise<SandboxProbe> | undefined;

/** Whether bubblewrap works here (cached for the life of the process). */
export function probeSandbox(): Promise<SandboxProbe> {
  cached ??= new Promise((done) => {
    if (process.platform !== 'linux') {
      done({ ok: false, reason: `no OS sandbox on ${process.platform} (bubblewrap is Linux only)` });
      return;
    }
    // The features a worker's sandbox uses, with node itself as the program (always there).
    const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
    args.push('--unshare-pid', '--die-with-parent', '--new-session', process.execPath, '-e', '');
    execFile('bwrap', args, { timeout: 10_000 }, (err, _out, stderr) => {
      if (!err) done({ ok: true });
      else if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        done({ ok: false, reason: 'bwrap is not installed (Debian/Ubuntu: apt install bubblewrap)' });
      else
        done({
          ok: false,
          reason: `bwrap does not work here: ${String(stderr).trim().split('\n')[0] || err.message}`,
        });
    });
  });
  return cached;
}

export interface SandboxDecision {
  on: boolean;
  /** Set when `auto` falls back to no sandbox: one line for the user. */
  notice?: string;
}

/**
 * What `workers.sandbox` means on this machine; `on` without a working bwrap is an error. `probeHere`
 * tells whether bwrap works here (`probeSandbox`).
 */
export async function decideSandbox(
  config: Config,
  probeHere: () => Promise<SandboxProbe> = probeSandbox,
): Promise<SandboxDecision> {
  const mode = config.workers.sandbox;
  if (mode === 'off') return { on: false };
  const probe = await probeHere();
  if (probe.ok) return { on: true };
  if (mode === 'on') {
    throw new OrchError('ERR_ORCH_SANDBOX_UNAVAILABLE', `workers.sandbox is on, but ${probe.reason}.`, {
      hint: 'Install bubblewrap (it needs unprivileged user namespaces), or set workers.sandbox: auto (or off) in .claude-agents.yaml.',
    });
  }
  return { on: false, notice: `workers run without an OS sandbox: ${probe.reason}` };
}

/**
 * Symlinks in the git folders a sandboxed worker may write, removed (see the workspaces'
 * `removePlantedLinks`); finding one means the task is refused.
 */
export function removePlantedGitLinks(ctx: RunContext, task: string, worktree: string): Promise<string[]> {
  return ctx.workspaces.removePlantedLinks(task, worktree);
}

/** The agent CLIs' own state below HOME, writable inside the sandbox. */
const AGENT_HOME_STATE = ['.claude', '.claude.json', '.codex', '.gemini', '.aider'];

/** Where a worker's sandbox is laid out: the paths of the machine the attempt runs on. */
export interface SandboxPlace {
  /** The repository's main checkout (read-only); a host's bare clone. */
  repoRoot: string;
  /** The git folders the task's worktree uses (`Workspaces.gitDirs`). */
  gitDirs: WorkspaceGitDirs;
  worktree: string;
  /** The `.orchestrator` folder to hide, and the task's channel inside it (read-write). */
  orchDir: string;
  channelDir: string;
  /** Folders inside `orchDir` the worker reads (the `orch` shim). */
  orchReadable: string[];
  /** Folders to hide (the worker runtime's own files); those under /tmp are hidden already. */
  hidden: readonly string[];
  /** Files to read also when they are under a hidden folder or /tmp (a host's git identity). */
  readable?: readonly string[];
  /** Files to hide, shown as empty (a host's password file). */
  hiddenFiles?: readonly string[];
}

/**
 * A sandbox layout at `place`, the one definition for the supervisor's machine and for hosts.
 * Creates the folders that must exist to be bound (the branch's ref and reflog folders, the task
 * channel). `env` is the agent's environment (HOME, CLAUDE_CONFIG_DIR, …), `agent` its adapter's name.
 */
export async function placeSandboxLayout(
  place: SandboxPlace,
  env: Record<string, string>,
  agent: string,
): Promise<SandboxLayout> {
  const { commonDir: common, adminDir: gitDir, refDir, logDir } = place.gitDirs;
  const worktree = place.worktree;
  if (!gitDir) {
    throw new OrchError('ERR_ORCH_SANDBOX_LAYOUT', `The worktree ${worktree} does not link into ${common}.`, {
      hint: 'Its .git file was changed; `orch state resume` recreates the worktree from its branch.',
    });
  }
  // With extensions.worktreeConfig git reads this file in orch's own commands in the worktree (a
  // filter or pager there would run outside the sandbox): it must exist to be bound read-only.
  const worktreeConfig = join(gitDir, 'config.worktree');
  if (!existsSync(worktreeConfig))
    await writeFile(worktreeConfig, '', { flag: 'wx' }).catch(traced('sandbox.writeFile'));
  for (const d of [refDir, logDir, place.channelDir]) await mkdir(d, { recursive: true });

  const home = env.HOME ?? homedir();
  const writable = AGENT_HOME_STATE.map((p) => join(home, p));
  for (const v of [env.CLAUDE_CONFIG_DIR, env.CODEX_HOME]) if (v) writable.push(resolve(v));
  // Claude Code creates ~/.claude on first use; in a read-only HOME it could not.
  if (agent === 'claude' && !env.CLAUDE_CONFIG_DIR)
    await mkdir(join(home, '.claude'), { recursive: true }).catch(traced('sandbox.mkdir'));

  // The user's session sockets (bus, ssh and gpg agents, rootless container engines).
  const runtimeDir = `/run/user/${process.getuid?.() ?? 0}`;
  const hidden = [...place.hidden, runtimeDir].filter((d) => !d.startsWith('/tmp/') && existsSync(d));
  const readable = (place.readable ?? []).filter((p) => existsSync(p));
  // One in a hidden folder is gone already (and no file can be bound over in a tmpfs made read-only).
  const hiddenFiles = (place.hiddenFiles ?? []).filter(
    (p) => existsSync(p) && !['/tmp', ...hidden].some((d) => p.startsWith(`${d}/`)),
  );
  return {
    repoRoot: place.repoRoot,
    commonDir: common,
    worktree,
    worktreeGitDir: gitDir,
    refDir,
    logDir,
    orchDir: place.orchDir,
    channelDir: place.channelDir,
    orchReadable: place.orchReadable,
    writable,
    hidden,
    programs: [assetsRoot(), dirname(process.execPath)],
    ...(readable.length > 0 ? { readable } : {}),
    ...(hiddenFiles.length > 0 ? { hiddenFiles } : {}),
    cwd: worktree,
  };
}

/** The task's sandbox layout on the supervisor's machine (see `placeSandboxLayout`). */
export async function sandboxLayout(
  ctx: RunContext,
  task: string,
  worktree: string,
  env: Record<string, string>,
  agent: string,
): Promise<SandboxLayout> {
  return placeSandboxLayout(
    {
      repoRoot: ctx.repoRoot,
      gitDirs: await ctx.workspaces.gitDirs(task, worktree),
      worktree,
      orchDir: orchPaths(ctx.repoRoot).orchDir,
      channelDir: taskChannelPaths(ctx.paths.dir, task).dir,
      orchReadable: [join(ctx.privateDir, 'bin')],
      hidden: ctx.workers.hiddenPaths(),
    },
    env,
    agent,
  );
}

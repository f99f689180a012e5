import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { loadConfig } from '@orch/core';
import { MIN_GIT_VERSION } from '@orch/git';
import { MIN_TMUX_VERSION } from '@orch/tmux';
import { checkoutRoot } from '@orch/store';
import { probeSandbox } from '../worker/sandbox.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  name: string;
  /** A failed required check makes `orch doctor` exit 1; others only warn. */
  required: boolean;
  status: CheckStatus;
  version?: string;
  detail: string;
  hint?: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Thresholds, overridable for tests. */
  minOpenFiles?: number;
  minFreeBytes?: number;
}

/**
 * What `orch doctor` checks before a run starts one. The git and tmux minimums are the ones their
 * drivers enforce (`MIN_GIT_VERSION`, `MIN_TMUX_VERSION`); node's is the engines field's major.
 */
export const MIN_GIT = [MIN_GIT_VERSION.major, MIN_GIT_VERSION.minor] as const;
export const MIN_TMUX = [MIN_TMUX_VERSION.major, MIN_TMUX_VERSION.minor] as const;
export const MIN_NODE = 20;
const GiB = 1024 ** 3;

/** The agent CLIs orch has adapters for; none is required (a plan may use only some, or `shell`). */
export const AGENT_CLIS = [
  { name: 'claude', install: 'npm install -g @anthropic-ai/claude-code' },
  { name: 'codex', install: 'npm install -g @openai/codex' },
  { name: 'gemini', install: 'npm install -g @google/gemini-cli' },
  { name: 'aider', install: 'python -m pip install aider-install && aider-install' },
] as const;

/** `1.2.3` out of any version banner. */
export function parseVersion(text: string): string | undefined {
  return /(\d+)\.(\d+)(?:\.(\d+))?[a-z0-9.+-]*/i.exec(text)?.[0];
}

export function versionAtLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split(/[.a-z+-]/i).map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < min.length; i++) {
    const v = Number.isNaN(parts[i]) ? 0 : (parts[i] ?? 0);
    if (v !== min[i]) return v > min[i]!;
  }
  return true;
}

async function probe(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ found: boolean; output: string }> {
  try {
    const r = await execa(cmd, args, {
      env,
      extendEnv: false,
      cwd,
      reject: false,
      timeout: 15_000,
      stdin: 'ignore',
    });
    if (r.failed && (r as { code?: string }).code === 'ENOENT') return { found: false, output: '' };
    return { found: !r.failed || r.exitCode !== undefined, output: `${r.stdout}\n${r.stderr}`.trim() };
  } catch {
    return { found: false, output: '' };
  }
}

async function checkGit(env: NodeJS.ProcessEnv, cwd: string): Promise<DoctorCheck> {
  const r = await probe('git', ['--version'], env, cwd);
  const min = MIN_GIT.join('.');
  if (!r.found)
    return {
      name: 'git',
      required: true,
      status: 'fail',
      detail: 'not found on PATH',
      hint: `Install git ${min} or newer.`,
    };
  const version = parseVersion(r.output);
  if (!version || !versionAtLeast(version, MIN_GIT)) {
    return {
      name: 'git',
      required: true,
      status: 'fail',
      ...(version ? { version } : {}),
      detail: `version ${version ?? 'unknown'} is older than ${min}`,
      hint: `orch needs git ${min} or newer (merge-tree --write-tree).`,
    };
  }
  return { name: 'git', required: true, status: 'ok', version, detail: `git ${version}` };
}

async function checkTmux(env: NodeJS.ProcessEnv, cwd: string): Promise<DoctorCheck> {
  const r = await probe('tmux', ['-V'], env, cwd);
  if (!r.found)
    return {
      name: 'tmux',
      required: true,
      status: 'fail',
      detail: 'not found on PATH',
      hint: 'Install tmux (apt install tmux, brew install tmux); orch runs every worker in it.',
    };
  const version = parseVersion(r.output);
  // Development builds (`tmux master`) carry no number: they pass, as they do when a run starts.
  if (version && !versionAtLeast(version, MIN_TMUX)) {
    const min = MIN_TMUX.join('.');
    return {
      name: 'tmux',
      required: true,
      status: 'fail',
      version,
      detail: `version ${version} is older than ${min}`,
      hint: `orch needs tmux ${min} or newer (new-session -e, window hooks).`,
    };
  }
  return {
    name: 'tmux',
    required: true,
    status: 'ok',
    ...(version ? { version } : {}),
    detail: r.output.split('\n')[0] ?? 'tmux',
  };
}

function checkNode(): DoctorCheck {
  const version = process.versions.node;
  if (!versionAtLeast(version, [MIN_NODE])) {
    return {
      name: 'node',
      required: true,
      status: 'fail',
      version,
      detail: `node ${version} is older than ${MIN_NODE}`,
      hint: `Use Node.js ${MIN_NODE} or newer.`,
    };
  }
  return { name: 'node', required: true, status: 'ok', version, detail: `node ${version}` };
}

async function checkAgent(
  agent: (typeof AGENT_CLIS)[number],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<DoctorCheck> {
  const r = await probe(agent.name, ['--version'], env, cwd);
  if (!r.found)
    return {
      name: agent.name,
      required: false,
      status: 'warn',
      detail: 'not found on PATH (optional)',
      hint: `Only needed for tasks that use it: ${agent.install}`,
    };
  const version = parseVersion(r.output);
  return {
    name: agent.name,
    required: false,
    status: 'ok',
    ...(version ? { version } : {}),
    detail: r.output.split('\n')[0] ?? agent.name,
  };
}

/** Whether Claude Code has a way to authenticate; reports only which one, never its value. */
export function checkClaudeAuth(env: NodeJS.ProcessEnv): DoctorCheck {
  for (const key of ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN']) {
    if (env[key]) return { name: 'claude auth', required: false, status: 'ok', detail: `${key} is set` };
  }
  const configDir = env.CLAUDE_CONFIG_DIR
    ? resolve(env.CLAUDE_CONFIG_DIR)
    : join(env.HOME || homedir(), '.claude');
  const credentials = join(configDir, '.credentials.json');
  if (existsSync(credentials))
    return { name: 'claude auth', required: false, status: 'ok', detail: `login found in ${credentials}` };
  return {
    name: 'claude auth',
    required: false,
    status: 'warn',
    detail: 'no ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN or CLAUDE_CODE_OAUTH_TOKEN, and no credentials file',
    hint: 'Run `claude` once and log in, or set ANTHROPIC_API_KEY (on macOS the login may be in the keychain, which orch cannot see).',
  };
}

async function checkOpenFiles(env: NodeJS.ProcessEnv, cwd: string, min: number): Promise<DoctorCheck> {
  const r = await probe('sh', ['-c', 'ulimit -n'], env, cwd);
  const text = r.output.trim();
  if (text === 'unlimited')
    return { name: 'open files', required: false, status: 'ok', detail: 'ulimit -n: unlimited' };
  const n = Number.parseInt(text, 10);
  if (Number.isNaN(n))
    return { name: 'open files', required: false, status: 'warn', detail: 'could not read ulimit -n' };
  if (n < min)
    return {
      name: 'open files',
      required: false,
      status: 'warn',
      detail: `ulimit -n: ${n} (below ${min})`,
      hint: `Raise it before a large run: ulimit -n ${min}`,
    };
  return { name: 'open files', required: false, status: 'ok', detail: `ulimit -n: ${n}` };
}

async function checkDisk(dir: string, min: number): Promise<DoctorCheck> {
  try {
    const s = await statfs(dir);
    const free = Number(s.bavail) * Number(s.bsize);
    const gib = (free / GiB).toFixed(1);
    if (free < min)
      return {
        name: 'disk',
        required: false,
        status: 'warn',
        detail: `${gib} GiB free in ${dir}`,
        hint: 'Every worktree is a checkout of the repository; free some space.',
      };
    return { name: 'disk', required: false, status: 'ok', detail: `${gib} GiB free in ${dir}` };
  } catch (e) {
    return {
      name: 'disk',
      required: false,
      status: 'warn',
      detail: `could not read free space: ${(e as Error).message}`,
    };
  }
}

/** The OS sandbox of workers: what `workers.sandbox` asks for and whether bubblewrap works here. */
async function checkSandbox(root: string | undefined): Promise<DoctorCheck> {
  const mode = root ? ((await loadConfig(root).catch(() => undefined))?.workers.sandbox ?? 'auto') : 'auto';
  const name = 'sandbox';
  if (mode === 'off')
    return {
      name,
      required: false,
      status: 'warn',
      detail: 'off (workers.sandbox: off): workers run unconfined',
    };
  const probe = await probeSandbox();
  if (probe.ok)
    return { name, required: false, status: 'ok', detail: `bubblewrap works (workers.sandbox: ${mode})` };
  return {
    name,
    required: mode === 'on',
    status: mode === 'on' ? 'fail' : 'warn',
    detail: `${probe.reason}; workers.sandbox: ${mode}${mode === 'auto' ? ', so workers run unconfined' : ''}`,
    hint: 'Install bubblewrap (Debian/Ubuntu: apt install bubblewrap; Linux only). docs/security.md says what holds without it.',
  };
}

/** Every check of `orch doctor`, run in parallel; `ok` is false when a required one failed. */
export async function runDoctor(opts: DoctorOptions = {}): Promise<DoctorReport> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const [git, tmux, agents, files, root] = await Promise.all([
    checkGit(env, cwd),
    checkTmux(env, cwd),
    Promise.all(AGENT_CLIS.map((a) => checkAgent(a, env, cwd))),
    checkOpenFiles(env, cwd, opts.minOpenFiles ?? 4096),
    checkoutRoot(cwd).catch(() => null),
  ]);
  const repo: DoctorCheck = root
    ? { name: 'repository', required: false, status: 'ok', detail: root }
    : {
        name: 'repository',
        required: false,
        status: 'warn',
        detail: `${cwd} is not inside a git repository`,
        hint: 'Run orch from the repository you want to work on.',
      };
  const disk = await checkDisk(root ?? cwd, opts.minFreeBytes ?? GiB);
  const sandbox = await checkSandbox(root ?? undefined);
  const checks = [git, tmux, checkNode(), ...agents, checkClaudeAuth(env), files, repo, disk, sandbox];
  return { ok: checks.every((c) => !c.required || c.status !== 'fail'), checks };
}

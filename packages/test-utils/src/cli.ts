import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { afterEach, beforeEach } from 'vitest';
import { socketNameFor } from '@orch/tmux';
import { claudeEnv, startAnthropicStub, type AnthropicStub, type StubScript } from './anthropic-stub.js';
import { tempRepo, type TempRepo } from './git.js';

/**
 * The built `orch` entry point of this checkout. With `mustExist: false`, only where it would be: for
 * tests that record the path (a run context, a worker's shim) but never run it, so they need no build.
 */
export function orchBin(opts: { mustExist?: boolean; workspaceBuild?: boolean } = {}): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  // `pnpm test` bundles the CLI right before the e2e set and sets ORCH_TEST_BUNDLE=1: the tests then
  // run what users install (the npm package's one-file bundle), which starts in about half the CPU
  // time of the workspace build. Without it (one file run by hand), the build `pnpm build` made.
  // `workspaceBuild`: a test of the build's own module graph, whatever the set runs.
  const bundle = process.env.ORCH_TEST_BUNDLE === '1' && !opts.workspaceBuild;
  const built = bundle ? ['orch', 'dist', 'bin.js'] : ['cli', 'dist', 'bin.js'];
  for (let i = 0; i < 6; i += 1) {
    const bin = join(dir, 'packages', ...built);
    if (existsSync(bin)) return bin;
    if (opts.mustExist === false && existsSync(join(dir, 'packages', 'cli', 'package.json'))) return bin;
    dir = resolve(dir, '..');
  }
  throw new Error(`packages/${built.join('/')} not found: run \`pnpm build\` (and \`pnpm bundle\`) first`);
}

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs the built CLI; never rejects on a non-zero exit (the exit code is data). */
export async function runOrch(
  args: string[],
  opts: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number; input?: string },
): Promise<CliResult> {
  const r = await execa(process.execPath, [orchBin(), ...args], {
    cwd: opts.cwd,
    env: { NO_COLOR: '1', ...opts.env },
    reject: false,
    timeout: opts.timeoutMs ?? 120_000,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' }),
  });
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
}

/** Starts the built CLI without waiting (for signals and live views). */
export function spawnOrch(
  args: string[],
  opts: { cwd: string; env?: Record<string, string | undefined> },
): ResultPromise {
  return execa(process.execPath, [orchBin(), ...args], {
    cwd: opts.cwd,
    env: { NO_COLOR: '1', ...opts.env },
    reject: false,
    stdin: 'ignore',
  });
}

/**
 * A private TMUX_TMPDIR so every tmux server a test's orch starts lives apart from the user's
 * (and from other tests'); `cleanup` kills those servers and removes the folder.
 */
export async function isolatedTmux(): Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'orch-tmux-'));
  const env = { TMUX_TMPDIR: dir };
  return {
    env,
    cleanup: async () => {
      const { readdir } = await import('node:fs/promises');
      const socketsDir = join(dir, `tmux-${process.getuid?.() ?? 0}`);
      const sockets = existsSync(socketsDir) ? await readdir(socketsDir) : [];
      for (const s of sockets) {
        await execa('tmux', ['-L', s, 'kill-server'], { env, reject: false, timeout: 10_000 });
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The setup of a describe block whose every test runs orch in its own repository: a private tmux
 * folder made before each test; after it, that folder's servers killed and the repository the test
 * made (`repo()`, read then) removed. The returned `env` is the current test's.
 */
export function isolatedTmuxEach(repo: () => TempRepo | undefined): { readonly env: Record<string, string> } {
  let tmux: Awaited<ReturnType<typeof isolatedTmux>> | undefined;
  beforeEach(async () => {
    tmux = await isolatedTmux();
  });
  afterEach(async () => {
    await tmux?.cleanup();
    tmux = undefined;
    await repo()?.cleanup();
  });
  return {
    get env(): Record<string, string> {
      if (!tmux) throw new Error('isolatedTmuxEach: env read outside a test');
      return tmux.env;
    },
  };
}

/**
 * A repository (made by `make`, `tempRepo` by default) and a private tmux folder for one test, both
 * removed when it finishes. Unlike `isolatedTmuxEach`, nothing is kept in the describe block, so its
 * tests may run concurrently (`describe.concurrent`); `test` is the test's context (its own
 * `onTestFinished`: the imported one cannot tell which of the concurrent tests is running).
 */
export async function tmuxRepo(
  test: { onTestFinished: (fn: () => Promise<void>) => void },
  files: Record<string, string>,
  make: (files: Record<string, string>) => Promise<TempRepo> = tempRepo,
): Promise<{ repo: TempRepo; env: Record<string, string> }> {
  const tmux = await isolatedTmux();
  const repo = await make(files).catch(async (e: unknown) => {
    await tmux.cleanup();
    throw e;
  });
  test.onTestFinished(async () => {
    await tmux.cleanup();
    await repo.cleanup();
  });
  return { repo, env: tmux.env };
}

/** The sessions on orch's tmux server of a repository (none when the server is not running). */
export async function orchSessions(root: string, env: Record<string, string>): Promise<string[]> {
  const r = await execa('tmux', ['-L', socketNameFor(root), 'list-sessions', '-F', '#{session_name}'], {
    env,
    reject: false,
    timeout: 10_000,
  });
  return String(r.stdout).split('\n').filter(Boolean);
}

/** A repository, a private tmux directory and the built CLI run in them: the setup of a CLI e2e test. */
export interface CliWorld {
  repo: TempRepo;
  /** The environment every `orch` of the world gets (its `TMUX_TMPDIR`). */
  env: Record<string, string>;
  /** Runs `orch ...args` at the repository root (or `opts.cwd`), with the world's environment. */
  orch: (args: string[], opts?: Partial<Parameters<typeof runOrch>[1]>) => Promise<CliResult>;
  /** Starts `orch ...args` without waiting, with the world's environment. */
  spawn: (args: string[], opts?: Partial<Parameters<typeof spawnOrch>[1]>) => ResultPromise;
  /** Kills the world's tmux servers and removes the repository. */
  cleanup: () => Promise<void>;
}

export async function cliWorld(files?: Record<string, string>): Promise<CliWorld> {
  const tmux = await isolatedTmux();
  const repo = await tempRepo(files).catch(async (e: unknown) => {
    await tmux.cleanup();
    throw e;
  });
  return {
    repo,
    env: tmux.env,
    orch: (args, opts = {}) => runOrch(args, { cwd: repo.root, ...opts, env: { ...tmux.env, ...opts.env } }),
    spawn: (args, opts = {}) =>
      spawnOrch(args, { cwd: repo.root, ...opts, env: { ...tmux.env, ...opts.env } }),
    cleanup: async () => {
      await tmux.cleanup();
      await repo.cleanup();
    },
  };
}

/** A `cliWorld` whose `claude` workers run the real Claude Code CLI against a scripted API stub. */
export interface ClaudeWorld extends CliWorld {
  stub: AnthropicStub;
  /** The CLI's own config folder (`CLAUDE_CONFIG_DIR`), never the user's. */
  configDir: string;
  /** The isolated tmux's variables and the CLI's (`claudeEnv`): what `orch` gets in this world. */
  env: Record<string, string>;
}

/** Kills the stub, the tmux servers, and removes the repository and the config folder in `cleanup()`. */
export async function claudeWorld(files: Record<string, string>, script: StubScript): Promise<ClaudeWorld> {
  const world = await cliWorld(files);
  const configDir = await mkdtemp(join(tmpdir(), 'orch-claude-config-'));
  const stub = await startAnthropicStub({ script });
  const env = { ...world.env, ...claudeEnv(stub.url, configDir) };
  return {
    ...world,
    stub,
    configDir,
    env,
    orch: (args, opts = {}) => runOrch(args, { cwd: world.repo.root, ...opts, env: { ...env, ...opts.env } }),
    spawn: (args, opts = {}) =>
      spawnOrch(args, { cwd: world.repo.root, ...opts, env: { ...env, ...opts.env } }),
    cleanup: async () => {
      await stub.close();
      await world.cleanup();
      await rm(configDir, { recursive: true, force: true });
    },
  };
}

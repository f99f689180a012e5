/**
 * How one attempt's files and argv are made, the one definition: from plain inputs (the agent, the
 * prompt's text, the token, the task's environment) and the paths of wherever the attempt runs.
 * The supervisor's launch uses it with its own paths; a worker host (`@orch/distributed`) with the
 * host's, from the inputs a job carried. Nothing here reads the run's state.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { roleFile, type Config } from '@orch/core';
import { getAdapter, orchMcpConfig } from '@orch/agents';
import { mailboxHookSettings, runPaths, taskChannelPaths, writeFileAtomic } from '@orch/store';
import { assetsRoot } from '../assets.js';
import type { AttemptInputs } from '../ports/worker-runtime.js';
import type { ExecSpec } from './exec.js';
import type { SandboxLayout } from './sandbox-args.js';
import { agentProcessEnv } from './spawn-agent.js';

/** Where the attempt runs: the paths and programs of that machine. */
export interface AttemptPlace {
  /** ORCH_ROOT of the worker: its task channel is `<root>/.orchestrator/runs/<run>/tasks/<task>/`. */
  root: string;
  worktree: string;
  /** Everything the worker's pane prints, and the agent's raw output. */
  logFile: string;
  rawLog: string;
  /** node and the `orch` entry point of that machine. */
  execPath: string;
  orchBin: string;
  /** That machine's own variables for the worker (ORCH_ROOT, ORCH_WORKTREE, PATH), over `inputs.env`. */
  env: Record<string, string>;
  config: Config;
  /** The environment the agent's is filtered from (`workers.env_passthrough`). */
  baseEnv: NodeJS.ProcessEnv;
  /** The sandbox's layout for the agent's environment (required when `inputs.sandbox`). */
  sandboxLayout?: (agentEnv: Record<string, string>) => Promise<SandboxLayout>;
}

export interface AttemptFiles {
  /** What the worker's session runs: the `_exec` wrapper on the spec file. */
  argv: string[];
  /** The session's own environment (the agent's is in the spec file). */
  env: Record<string, string>;
  promptFile: string;
  specFile: string;
}

/** A directory with an `orch` executable (put first on every worker's PATH); returns it. */
export async function writeShim(dir: string, execPath: string, orchBin: string): Promise<string> {
  const shim = join(dir, 'orch');
  const body = `#!/bin/sh\nexec ${JSON.stringify(execPath)} ${JSON.stringify(orchBin)} "$@"\n`;
  await mkdir(dir, { recursive: true });
  const current = existsSync(shim) ? await readFile(shim, 'utf8') : '';
  // Executable before it is renamed into place: a supervisor killed between a write and a chmod
  // left a shim on which every worker's `orch` failed (exit 126), run after run; one left so by an
  // older version is repaired here.
  if (current !== body) await writeFileAtomic(shim, body, { mode: 0o755 });
  else if (((await stat(shim)).mode & 0o100) === 0) await chmod(shim, 0o755);
  return dir;
}

/** Writes the attempt's channel files (prompt, agent settings, the 0600 exec spec); returns its argv. */
export async function writeAttemptFiles(inp: AttemptInputs, place: AttemptPlace): Promise<AttemptFiles> {
  const adapter = getAdapter(inp.agent);
  const env = { ...inp.env, ...place.env };
  const channel = taskChannelPaths(runPaths(place.root, inp.run).dir, inp.task);
  // Everything the worker's processes read lives in its task channel (private to the user: 0700).
  await mkdir(channel.dir, { recursive: true, mode: 0o700 });
  await chmod(channel.dir, 0o700);
  for (const d of [
    channel.outbox.tmp,
    channel.outbox.new,
    join(channel.inbox, 'new'),
    join(channel.inbox, 'cur'),
  ])
    await mkdir(d, { recursive: true });
  const promptFile = channel.prompt(inp.attempt);
  await writeFileAtomic(promptFile, inp.prompt);
  const orch = [place.execPath, place.orchBin];
  let claude = {};
  if (adapter.name === 'claude') {
    // Hooks hand new mailbox messages to the agent at turn boundaries; the MCP server inherits the
    // agent's environment, whose ORCH_TASK_TOKEN binds it to the task: neither file holds a secret.
    const settingsFile = join(channel.dir, 'claude-settings.json');
    await writeFileAtomic(settingsFile, `${JSON.stringify(mailboxHookSettings(orch), null, 2)}\n`);
    const mcpConfigFile = join(channel.dir, 'mcp.json');
    await writeFileAtomic(mcpConfigFile, `${JSON.stringify(orchMcpConfig([...orch, 'mcp']), null, 2)}\n`);
    claude = { settingsFile, mcpConfigFile };
  }
  const cmd = adapter.buildCommand({
    role: 'worker',
    taskId: inp.task,
    worktree: place.worktree,
    promptFile,
    prompt: inp.prompt,
    systemPromptFile: roleFile('worker', assetsRoot()),
    ...claude,
    ...(inp.model ? { model: inp.model } : {}),
    config: place.config,
    ...(inp.script !== undefined ? { script: inp.script } : {}),
    env,
  });
  // The agent's command goes to the wrapper in a file: long prompts and system prompts would
  // overflow tmux's message size, and tmux replaces PATH with the client's.
  const agentEnvironment = agentProcessEnv(cmd, place.config, place.baseEnv, env);
  const sandbox =
    inp.sandbox && place.sandboxLayout ? await place.sandboxLayout(agentEnvironment) : undefined;
  const spec: ExecSpec = {
    run: inp.run,
    task: inp.task,
    attempt: inp.attempt,
    agent: adapter.name,
    rawLog: place.rawLog,
    argv: cmd.argv,
    // Secrets travel in this file (0600), never on tmux's command line, where `ps` shows them.
    env: agentEnvironment,
    unset: cmd.unsetEnv,
    ...(sandbox ? { sandbox } : {}),
    ...(cmd.stdinFile ? { stdin: cmd.stdinFile } : {}),
    // The attempt's secret: in this 0600 file only, never on a command line or in the prompt.
    token: inp.token,
  };
  const specFile = channel.spec(inp.attempt);
  await writeFileAtomic(specFile, `${JSON.stringify(spec, null, 2)}\n`, { mode: 0o600 });
  return {
    argv: [place.execPath, place.orchBin, '_exec', specFile],
    env: { ORCH_ROOT: place.root },
    promptFile,
    specFile,
  };
}

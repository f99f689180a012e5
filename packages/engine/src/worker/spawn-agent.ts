/**
 * Starting an agent CLI, the one place: the environment every agent process gets (the worker in
 * tmux, the headless reviewer, the planner), and the headless spawn itself. An argument array,
 * never a shell string; the parent's environment filtered by `agentEnv` (secrets stay out unless
 * `workers.env_passthrough` names them).
 */
import { execa } from 'execa';
import { agentEnv, type Config } from '@orch/core';
import type { AgentCommand } from '@orch/agents';

/**
 * The environment of an agent process: `base` filtered, without what the adapter unsets, then
 * `extra` (ORCH_* and the like) and the adapter's own variables over it.
 */
export function agentProcessEnv(
  cmd: Pick<AgentCommand, 'env' | 'unsetEnv'>,
  config: Pick<Config, 'workers'>,
  base: NodeJS.ProcessEnv = process.env,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env = agentEnv(base, config.workers.env_passthrough);
  for (const k of cmd.unsetEnv) delete env[k];
  return { ...env, ...extra, ...cmd.env };
}

export interface SpawnAgentOptions {
  cwd: string;
  config: Pick<Config, 'workers'>;
  /** The environment to filter (default: this process's). */
  baseEnv?: NodeJS.ProcessEnv;
  timeoutMs: number;
  killSignal?: NodeJS.Signals;
}

/** Spawns an agent command without tmux; it never rejects (check `exitCode`, `timedOut`, `code`). */
export function spawnAgent(cmd: AgentCommand, o: SpawnAgentOptions) {
  const [bin, ...args] = cmd.argv as [string, ...string[]];
  return execa(bin, args, {
    cwd: o.cwd,
    env: agentProcessEnv(cmd, o.config, o.baseEnv),
    extendEnv: false,
    ...(cmd.stdinFile ? { inputFile: cmd.stdinFile } : { stdin: 'ignore' as const }),
    reject: false,
    timeout: o.timeoutMs,
    ...(o.killSignal ? { killSignal: o.killSignal } : {}),
    encoding: 'utf8',
  });
}

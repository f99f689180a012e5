/**
 * The adapter interface between the engine and an agent CLI: how to launch it for a role, and how
 * to read its output into normalized events.
 */
import type { Config, Usage } from '@orch/core';

export type AgentRole = 'worker' | 'planner' | 'reviewer' | 'verifier' | 'integration-checker';

export interface AgentLaunchContext {
  role: AgentRole;
  taskId: string;
  worktree: string;
  promptFile: string;
  prompt: string;
  /** Appended system prompt (roles/worker.md for workers). */
  systemPromptFile?: string;
  /** claude --settings (hooks). */
  settingsFile?: string;
  /** claude --mcp-config: orch's MCP server for the worker (no secret in it: the token stays in the environment). */
  mcpConfigFile?: string;
  model?: string;
  config: Config;
  /** shell agent: the task's `run` script. */
  script?: string;
  /** ORCH_* and the like, merged over the adapter's own variables. */
  env: Record<string, string>;
}

/** What to spawn: an argument array (never a shell string), run with the worktree as cwd. */
export interface AgentCommand {
  argv: string[];
  env: Record<string, string>;
  /** Variables to remove from the inherited environment. */
  unsetEnv: string[];
  /** File to feed on stdin, when the prompt travels that way. */
  stdinFile?: string;
}

export type AgentEvent =
  | { type: 'started'; sessionId?: string; model?: string }
  | { type: 'text'; text: string }
  | { type: 'tool'; name: string; summary: string }
  /** Cumulative totals so far. */
  | { type: 'usage'; usage: Partial<Usage> }
  | {
      type: 'result';
      ok: boolean;
      summary?: string;
      usage?: Partial<Usage>;
      durationMs?: number;
      turns?: number;
    }
  | { type: 'rate_limit'; message: string; resetAt?: string }
  | { type: 'error'; message: string };

/** Incremental: `push` takes any chunk of output (not necessarily whole lines). */
export interface OutputParser {
  push(chunk: string): AgentEvent[];
  end(): AgentEvent[];
}

/**
 * How orch learns that a worker finished, besides `orch task done`:
 * - `process-exit`: the process exiting 0 with work left behind (commits or changes) is done;
 *   a non-zero exit, or an exit that changed nothing, is a failure.
 * - `result-event`: the agent's own final result event (ok, exit 0, work left behind) is done.
 */
export type DoneSignal = 'process-exit' | 'result-event';

export interface AgentAdapter {
  name: string;
  done: DoneSignal;
  /**
   * What the worker prompt says about committing and reporting, when this agent cannot do it the
   * usual way (`git commit`, `orch task done`).
   */
  workerNote?: string;
  /** CLI that must be on PATH (preflight, doctor); undefined for shell and command. */
  binary?: string;
  versionArgs?: string[];
  /** True when the parser reads a machine stream (claude stream-json). */
  structuredOutput: boolean;
  buildCommand(ctx: AgentLaunchContext): AgentCommand;
  createParser(): OutputParser;
  /** One readable line for the tmux pane, or nothing. */
  render(ev: AgentEvent): string | undefined;
}

/**
 * The deterministic agent: runs the task's `run` script with `bash -c` in the worktree (the engine
 * sets the working directory). No model; the demo and the tests use it. `ORCH_ATTEMPT` (1, 2, ...)
 * lets a script behave differently on a retry.
 */
import { OrchError } from '@orch/core';
import { createPlainParser } from './plain.js';
import { renderEvent } from './summary.js';
import type { AgentAdapter, AgentCommand, AgentLaunchContext } from './types.js';

export function buildShellCommand(ctx: AgentLaunchContext): AgentCommand {
  if (ctx.script === undefined || ctx.script.trim() === '') {
    throw new OrchError(
      'ERR_ORCH_SHELL_NO_SCRIPT',
      `task ${ctx.taskId} uses the shell agent but has no run script`,
      {
        hint: 'add `run: <commands>` to the task in tasks.yaml, or choose another agent',
      },
    );
  }
  const env = { ORCH_ATTEMPT: '1', ...ctx.env };
  return { argv: ['bash', '-c', ctx.script], env, unsetEnv: [] };
}

export const shellAdapter: AgentAdapter = {
  name: 'shell',
  done: 'process-exit',
  structuredOutput: false,
  buildCommand: buildShellCommand,
  createParser: createPlainParser,
  render: renderEvent,
};

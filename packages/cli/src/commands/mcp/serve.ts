import { defineCommand } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

export const mcp = defineCommand({
  name: 'mcp',
  description: "Serve orch's tools over MCP on stdin/stdout (the orchestrating session's, or a worker's own)",
  help: "Claude Code starts it from the plugin's .mcp.json, and orch gives it to claude workers with\n--mcp-config. In a worker (ORCH_TASK_TOKEN set) the tools are bound to the worker's own task.",
  examples: ['claude mcp add orch -- orch mcp'],
  async handler() {
    // Loaded only here: the MCP SDK stays out of every other command.
    const [{ serveStdio }, { VERSION }] = await Promise.all([
      import('@orch/mcp'),
      import('../../version.js'),
    ]);
    await serveStdio({ version: VERSION });
    return { exitCode: ExitCode.Ok };
  },
});

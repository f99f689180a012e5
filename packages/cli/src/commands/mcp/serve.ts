import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('mcp')
    .description(
      "Serve orch's tools over MCP on stdin/stdout (the orchestrating session's, or a worker's own)",
    )
    .addHelpText(
      'after',
      `
Claude Code starts it from the plugin's .mcp.json, and orch gives it to claude workers with
--mcp-config. In a worker (ORCH_TASK_TOKEN set) the tools are bound to the worker's own task.

Example:
  $ claude mcp add orch -- orch mcp`,
    )
    .action(async () => {
      // Loaded only here: the MCP SDK stays out of every other command.
      const [{ serveStdio }, { VERSION }] = await Promise.all([
        import('@orch/mcp'),
        import('../../version.js'),
      ]);
      await serveStdio({ version: VERSION });
    });
}

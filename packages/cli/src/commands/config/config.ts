import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('config')
    .description('Print the effective configuration and where each value came from')
    .option(
      '--config <file>',
      'config file (default: the first of orch.yaml, .orch/config.yaml, .claude-agents.yaml)',
    )
    .option('--json', 'print the values as JSON', false)
    .addHelpText(
      'after',
      '\nEach value is either a default or set at file:line:column of the config file.\n\nExample:\n  $ orch config --json',
    )
    .action(async (opts: { config?: string; json: boolean }) => {
      const { runConfigCommand } = await import('../../config-cmd/show.js');
      process.exitCode = await runConfigCommand(opts);
    });
}

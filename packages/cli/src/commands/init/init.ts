import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('init')
    .description('Write a commented orch.yaml and a sample tasks.yaml for this repository')
    .option('--json', 'print the files written as JSON', false)
    .addHelpText(
      'after',
      '\nDetects the package manager and the test command. Refuses when orch.yaml, .orch/config.yaml,\n.claude-agents.yaml or tasks.yaml exists: nothing is overwritten.\n\nExample:\n  $ orch init && orch plan check',
    )
    .action(async (opts: { json: boolean }) => {
      const { runInitCommand } = await import('../../config-cmd/init.js');
      process.exitCode = await runInitCommand(opts);
    });
}

import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('Check that git, tmux, node and the agent CLIs orch needs are ready')
    .option('--json', 'print the checks as JSON', false)
    .addHelpText(
      'after',
      '\nExits 1 when a required check (git >= 2.38, tmux, node >= 20) fails; the rest are warnings.\n\nExample:\n  $ orch doctor --json',
    )
    .action(async (opts: { json: boolean }) => {
      const { runDoctorCommand } = await import('../claude/doctor-command.js');
      process.exitCode = await runDoctorCommand(opts);
    });
}

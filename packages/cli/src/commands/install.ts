import { Option, type Command } from 'commander';

export function register(program: Command): void {
  program
    .command('install')
    .description('Install the orch agents and the /orchestrate skill into Claude Code')
    .addOption(
      new Option('--scope <scope>', 'user: ~/.claude (or $CLAUDE_CONFIG_DIR); project: ./.claude')
        .choices(['user', 'project'])
        .default('user'),
    )
    .option('--force', 'overwrite files you edited locally', false)
    .option('--json', 'print the result as JSON', false)
    .addHelpText(
      'after',
      '\nFiles you edited are left alone and their difference is shown; --force replaces them.\n\nExample:\n  $ orch install --scope project',
    )
    .action(async (opts: { scope: 'user' | 'project'; force: boolean; json: boolean }) => {
      const { runInstall } = await import('../claude/install-command.js');
      process.exitCode = await runInstall(opts);
    });
}

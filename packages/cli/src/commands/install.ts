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
    .addOption(
      new Option(
        '--permissions <file>',
        'where to allow the orch commands (and the orch MCP tools, when ./.mcp.json registers them): settings.json, settings.local.json (project scope), or none',
      )
        .choices(['settings', 'local', 'none'])
        .default('settings'),
    )
    .option('--no-files', 'only the permission rules (for the plugin, which brings the agents and the skill)')
    .option('--force', 'overwrite files you edited locally', false)
    .option('--json', 'print the result as JSON', false)
    .addHelpText(
      'after',
      '\nFiles you edited are left alone and their difference is shown; --force replaces them. The permission\nrules are added to what the settings file holds, never replacing a rule, and shown as a diff.\n\nExample:\n  $ orch install --scope project --permissions local',
    )
    .action(
      async (opts: {
        scope: 'user' | 'project';
        force: boolean;
        json: boolean;
        permissions: 'settings' | 'local' | 'none';
        files: boolean;
      }) => {
        const { runInstall } = await import('../claude/install-command.js');
        process.exitCode = await runInstall(opts);
      },
    );
}

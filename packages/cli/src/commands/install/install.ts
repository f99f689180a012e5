import { common, defineCommand, opt } from '../../define.js';

export const install = defineCommand({
  name: 'install',
  description: 'Install the orch agents, the /orchestrate skill and their permission rules into Claude Code',
  options: {
    scope: opt.choice(
      '--scope <scope>',
      'user: ~/.claude (or $CLAUDE_CONFIG_DIR); project: ./.claude',
      ['user', 'project'],
      'user',
    ),
    permissions: opt.choice(
      '--permissions <file>',
      'where to allow the orch commands (and the orch MCP tools, when ./.mcp.json registers them): settings.json, settings.local.json (project scope), or none',
      ['settings', 'local', 'none'],
      'settings',
    ),
    files: opt.negatable(
      '--no-files',
      'only the permission rules (for the plugin, which brings the agents and the skill)',
    ),
    force: opt.flag('--force', 'overwrite files you edited locally'),
    json: common.json(),
  },
  help: 'Files you edited are left alone and their difference is shown; --force replaces them. The permission\nrules are added to what the settings file holds, never replacing a rule, and shown as a diff.',
  examples: ['orch install --scope project --permissions local'],
  async handler({ opts }, io) {
    const { runInstall } = await import('./install-run.js');
    return runInstall(opts, io);
  },
});

import { common, defineCommand, opt } from '../../define.js';

export const install = defineCommand({
  name: 'install',
  description: 'Install the orch agents and the /orchestrate skill into Claude Code',
  options: {
    scope: opt.choice(
      '--scope <scope>',
      'user: ~/.claude (or $CLAUDE_CONFIG_DIR); project: ./.claude',
      ['user', 'project'],
      'user',
    ),
    force: opt.flag('--force', 'overwrite files you edited locally'),
    json: common.json(),
  },
  help: 'Files you edited are left alone and their difference is shown; --force replaces them.',
  examples: ['orch install --scope project'],
  async handler({ opts }) {
    const { runInstall } = await import('./install-run.js');
    return { exitCode: await runInstall(opts) };
  },
});

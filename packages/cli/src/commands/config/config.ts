import { common, defineCommand } from '../../define.js';

export const config = defineCommand({
  name: 'config',
  description: 'Print the effective configuration and where each value came from',
  options: { config: common.config(), json: common.json('print the values as JSON') },
  help: 'Each value is either a default or set at file:line:column of the config file.',
  examples: ['orch config --json'],
  async handler({ opts }, io) {
    const { runConfigCommand } = await import('./show.js');
    return runConfigCommand(opts, io);
  },
});

import { common, defineCommand } from '../../define.js';

export const list = defineCommand({
  name: 'list',
  description: 'List every entry',
  options: { json: common.json('print the entries as JSON') },
  examples: ['orch context list --json'],
  async handler({ opts }, io) {
    const { listCommand } = await import('./entries.js');
    return listCommand(opts, io);
  },
});

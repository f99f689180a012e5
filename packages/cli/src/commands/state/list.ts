import { common, defineCommand } from '../../define.js';

export const list = defineCommand({
  name: 'list',
  description: 'The runs of this repository, newest first',
  options: { json: common.json() },
  examples: ['orch state list'],
  async handler({ opts }, io) {
    const { listCommand } = await import('./status-view.js');
    return listCommand(opts, io);
  },
});

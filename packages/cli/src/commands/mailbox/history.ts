import { common, defineCommand } from '../../define.js';

export const history = defineCommand({
  name: 'history',
  description: 'Print every message of the run, oldest first',
  options: { run: common.run(), json: common.json('print the messages as JSON') },
  examples: ['orch mailbox history --json'],
  async handler({ opts }, io) {
    const { historyCommand } = await import('./messages.js');
    return historyCommand(opts, io);
  },
});

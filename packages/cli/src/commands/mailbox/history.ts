import { common, defineCommand } from '../../define.js';
import { storeOption } from '../../options.js';

export const history = defineCommand({
  name: 'history',
  description: 'Print every message of the run, oldest first',
  options: { run: common.run(), store: storeOption(), json: common.json('print the messages as JSON') },
  examples: ['orch mailbox history --json', 'orch mailbox history --store redis://10.0.0.5:6379/0 --json'],
  async handler({ opts }, io) {
    const { historyCommand } = await import('./messages.js');
    return historyCommand(opts, io);
  },
});

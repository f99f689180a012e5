import { common, defineCommand } from '../../define.js';
import { storeOption } from '../../options.js';
import { inbox } from './options.js';

export const check = defineCommand({
  name: 'check',
  description: 'Print unread messages of an inbox and mark them read',
  args: { inbox: inbox() },
  options: { run: common.run(), store: storeOption(), json: common.json('print the messages as JSON') },
  examples: [
    'orch mailbox check api --json',
    'orch mailbox check supervisor --store redis://10.0.0.5:6379/0',
  ],
  async handler({ args, opts }, io) {
    const { checkCommand } = await import('./messages.js');
    return checkCommand(args.inbox, opts, io);
  },
});

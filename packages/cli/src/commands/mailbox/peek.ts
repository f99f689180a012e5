import { common, defineCommand } from '../../define.js';
import { storeOption } from '../../options.js';
import { inbox } from './options.js';

export const peek = defineCommand({
  name: 'peek',
  description: 'Print the number of unread messages; marks nothing read',
  args: { inbox: inbox() },
  options: { run: common.run(), store: storeOption(), json: common.json('print {inbox, unread} as JSON') },
  examples: ['orch mailbox peek supervisor'],
  async handler({ args, opts }, io) {
    const { peekCommand } = await import('./messages.js');
    return peekCommand(args.inbox, opts, io);
  },
});

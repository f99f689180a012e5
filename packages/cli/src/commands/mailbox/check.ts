import { common, defineCommand } from '../../define.js';
import { inbox } from './options.js';

export const check = defineCommand({
  name: 'check',
  description: 'Print unread messages of an inbox and mark them read',
  args: { inbox: inbox() },
  options: { run: common.run(), json: common.json('print the messages as JSON') },
  examples: ['orch mailbox check api --json'],
  async handler({ args, opts }, io) {
    const { checkCommand } = await import('./messages.js');
    return checkCommand(args.inbox, opts, io);
  },
});

import { common, defineCommand, opt } from '../../define.js';
import { storeOption } from '../../options.js';
import { inbox } from './options.js';

export const watch = defineCommand({
  name: 'watch',
  description: 'Print messages of an inbox as they arrive (marks them read), until Ctrl-C',
  args: { inbox: inbox() },
  options: {
    keepUnread: opt.flag('--keep-unread', 'only watch: leave the messages unread for their recipient'),
    run: common.run(),
    store: storeOption(),
    json: common.json('print one JSON message per line'),
  },
  examples: ['orch mailbox watch supervisor --keep-unread'],
  async handler({ args, opts }, io) {
    const { watchCommand } = await import('./messages.js');
    return watchCommand(args.inbox, opts, io);
  },
});

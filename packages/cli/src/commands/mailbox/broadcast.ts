import { arg, defineCommand } from '../../define.js';
import { sendOptions, toSendOpts } from './options.js';

export const broadcast = defineCommand({
  name: 'broadcast',
  description: 'Send a message to every task and the supervisor (never back to the sender)',
  args: { message: arg.required('message', 'the message text') },
  options: sendOptions(),
  examples: ['orch mailbox broadcast "use the Result type from src/result.ts for errors"'],
  async handler({ args, opts }, io) {
    const { broadcastCommand } = await import('./messages.js');
    return broadcastCommand(args.message, toSendOpts(opts), io);
  },
});

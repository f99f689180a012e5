import { arg, defineCommand } from '../../define.js';
import { sendOptions, toSendOpts } from './options.js';

export const send = defineCommand({
  name: 'send',
  description: 'Send a message to a task, to `supervisor`, or to `all`',
  args: {
    to: arg.required('to', 'a task id of the run, supervisor, or all'),
    message: arg.required('message', 'the message text'),
  },
  options: sendOptions(),
  examples: [
    'orch mailbox send ui "GET /users now returns {items, next}" --type interface-changed --target contracts/users.yaml',
    'ORCH_RUN_KEY_FILE=~/run.key orch mailbox send api "keep /users paginated" --store redis://10.0.0.5:6379/0',
  ],
  async handler({ args, opts }, io) {
    const { sendCommand } = await import('./messages.js');
    return sendCommand(args.to, args.message, toSendOpts(opts), io);
  },
});

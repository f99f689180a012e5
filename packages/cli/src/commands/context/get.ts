import { arg, common, defineCommand } from '../../define.js';

export const get = defineCommand({
  name: 'get',
  description: 'Print the value of a key (or a dotted path into a value)',
  args: { key: arg.required('key', 'the key') },
  options: { json: common.json('print the entry as JSON') },
  examples: ['orch context get api.dates'],
  async handler({ args, opts }, io) {
    const { getCommand } = await import('./entries.js');
    return getCommand(args.key, opts, io);
  },
});

import { arg, common, defineCommand } from '../../define.js';

export const remove = defineCommand({
  name: 'delete',
  description: 'Delete a key (exit 1 when it did not exist)',
  args: { key: arg.required('key', 'the key') },
  options: { json: common.json('print {key, deleted} as JSON') },
  examples: ['orch context delete api.dates'],
  async handler({ args, opts }, io) {
    const { deleteCommand } = await import('./entries.js');
    return deleteCommand(args.key, opts, io);
  },
});

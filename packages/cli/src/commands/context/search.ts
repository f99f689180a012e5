import { arg, common, defineCommand } from '../../define.js';

export const search = defineCommand({
  name: 'search',
  description: 'List entries whose key or value contains the text (case-insensitive)',
  args: { text: arg.required('text', 'what to look for') },
  options: { json: common.json('print the entries as JSON') },
  examples: ['orch context search auth'],
  async handler({ args, opts }, io) {
    const { searchCommand } = await import('./entries.js');
    return searchCommand(args.text, opts, io);
  },
});

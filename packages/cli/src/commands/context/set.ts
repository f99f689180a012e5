import { arg, common, defineCommand, opt } from '../../define.js';

export const set = defineCommand({
  name: 'set',
  description: 'Set a key (the value is parsed as JSON when it is JSON, else kept as text)',
  args: { key: arg.required('key', 'for example api.dates'), value: arg.required('value', 'JSON or text') },
  options: {
    from: opt.text('--from <id>', 'who records it (default: ORCH_TASK, else "user")'),
    json: common.json('print the entry as JSON'),
  },
  examples: ['orch context set api.dates "ISO 8601 strings in UTC" --from api'],
  async handler({ args, opts }, io) {
    const { setCommand } = await import('./entries.js');
    return setCommand(args.key, args.value, opts, io);
  },
});

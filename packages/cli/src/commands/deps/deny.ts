import { arg, common, defineCommand, opt } from '../../define.js';
import { storeOption } from '../../options.js';

export const deny = defineCommand({
  name: 'deny',
  description: 'Refuse a request; the worker is told why and starts again without it',
  args: { task: arg.required('task', 'the task whose request to deny') },
  options: {
    reason: opt.requiredText('--reason <text>', 'why (the worker reads it)'),
    run: common.run(),
    store: storeOption(),
    json: common.json(),
  },
  examples: ['orch deps deny ui --reason "use the built-in fetch"'],
  async handler({ args, opts }, io) {
    const { depsDeny } = await import('./requests.js');
    return depsDeny(args.task, opts, io);
  },
});

import { arg, common, defineCommand, opt } from '../../define.js';
import { storeOption } from '../../options.js';

export const approve = defineCommand({
  name: 'approve',
  description:
    "Install the requested packages on staging with the project's package manager and restart the workers",
  args: { task: arg.optional('task', 'the task whose request to approve') },
  options: {
    all: opt.flag('--all', 'approve every pending request'),
    run: common.run(),
    store: storeOption(),
    json: common.json(),
  },
  examples: [
    'orch deps approve api',
    'orch deps approve --all',
    'ORCH_RUN_KEY_FILE=~/run.key orch deps approve api --store redis://10.0.0.5:6379/0',
  ],
  async handler({ args, opts }, io) {
    const { depsApprove } = await import('./requests.js');
    return depsApprove(args.task, opts, io);
  },
});

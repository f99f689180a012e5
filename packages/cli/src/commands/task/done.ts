import { arg, defineCommand, opt } from '../../define.js';
import { reportOptions } from './options.js';

export const done = defineCommand({
  name: 'done',
  description: 'Report the task finished; orch then verifies and merges it',
  args: { summary: arg.optional('summary', 'what was done (same as --summary)') },
  options: { ...reportOptions(), summary: opt.text('--summary <text>', 'what was done (optional)') },
  examples: [
    'orch task done --summary "added the /login route and its tests"',
    'orch task done "added the /login route and its tests"',
    'orch task done',
    'ORCH_RUN_KEY_FILE=~/run.key orch task done --task api --store redis://10.0.0.5:6379/0',
  ],
  async handler({ args, opts }, io) {
    const { reportTask } = await import('./report.js');
    const summary = opts.summary ?? args.summary;
    return reportTask({ kind: 'done', ...(summary !== undefined ? { summary } : {}) }, opts, io);
  },
});

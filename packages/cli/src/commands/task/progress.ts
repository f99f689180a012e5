import { arg, defineCommand } from '../../define.js';
import { reportOptions } from './options.js';

export const progress = defineCommand({
  name: 'progress',
  description: 'Record a progress message for the task',
  args: { message: arg.required('message', 'what the worker is doing now') },
  options: reportOptions(),
  examples: ['orch task progress "tests for the parser pass; wiring the CLI next"'],
  async handler({ args, opts }, io) {
    const { reportTask } = await import('./report.js');
    return reportTask({ kind: 'progress', message: args.message }, opts, io);
  },
});

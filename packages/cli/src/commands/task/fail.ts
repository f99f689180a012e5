import { defineCommand, opt } from '../../define.js';
import { reportOptions } from './options.js';

export const fail = defineCommand({
  name: 'fail',
  description: 'Report that the task cannot be done',
  options: { ...reportOptions(), reason: opt.requiredText('--reason <text>', 'why it failed') },
  examples: ['orch task fail --reason "the contract has no field for the user id"'],
  async handler({ opts }, io) {
    const { reportTask } = await import('./report.js');
    return reportTask({ kind: 'fail', reason: opts.reason }, opts, io);
  },
});

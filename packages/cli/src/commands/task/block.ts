import { defineCommand, opt } from '../../define.js';
import { reportOptions } from './options.js';

export const block = defineCommand({
  name: 'block',
  description: 'Report that the task needs something first (a package, another task)',
  options: {
    ...reportOptions(),
    needs: opt.requiredText('--needs <dep>', 'what is needed, e.g. a package spec "zod@^4"'),
    reason: opt.requiredText('--reason <text>', 'why it is needed'),
  },
  examples: ['orch task block --needs "date-fns@^4" --reason "parsing ISO week dates"'],
  async handler({ opts }, io) {
    const { reportTask } = await import('./report.js');
    return reportTask({ kind: 'block', needs: opts.needs, reason: opts.reason }, opts, io);
  },
});

import { defineCommand } from '../../define.js';
import { viewOptions } from './options.js';

export const workers = defineCommand({
  name: 'workers',
  description: 'Live grid of the running workers and their latest output; finished ones collapse to one line',
  options: viewOptions('print the workers and their latest output lines as JSON'),
  examples: ['orch workers', 'orch workers --once --panes tmux'],
  async handler({ opts }, io) {
    const { workersCommand } = await import('./open-view.js');
    return workersCommand(opts, io);
  },
});

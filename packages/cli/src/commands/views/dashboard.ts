import { defineCommand } from '../../define.js';
import { viewOptions } from './options.js';

export const dashboard = defineCommand({
  name: 'dashboard',
  description: 'Live view of a run: every task with status, agent, context, cost and time (q quits)',
  options: viewOptions('print the run state as JSON'),
  help: `Keys: ↑/↓ select a task, enter opens its log, verification report and mailbox,
w switches to the workers view, esc goes back, q quits.`,
  examples: [
    'orch dashboard',
    'orch dashboard --once --run 20261121-053000-a1b2',
    'orch dashboard --store redis://10.0.0.5:6379/0',
  ],
  async handler({ opts }, io) {
    const { dashboardCommand } = await import('./open-view.js');
    return dashboardCommand(opts, io);
  },
});

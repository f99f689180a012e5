import { common, defineCommand } from '../../define.js';

export const status = defineCommand({
  name: 'status',
  description: 'Phase, commits and every task of a run, with evidence, timestamps, tokens and cost',
  options: { run: common.run(), json: common.json() },
  examples: ['orch state status --json'],
  async handler({ opts }, io) {
    const { statusCommand } = await import('./status-view.js');
    return statusCommand(opts, io);
  },
});

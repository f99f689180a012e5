import { common, defineCommand } from '../../define.js';
import { storeOption } from '../../options.js';

export const status = defineCommand({
  name: 'status',
  description: 'Phase, commits and every task of a run, with evidence, timestamps, tokens and cost',
  options: { run: common.run(), store: storeOption(), json: common.json() },
  examples: ['orch state status --json', 'orch state status --store redis://10.0.0.5:6379/0 --json'],
  async handler({ opts }, io) {
    const { statusCommand } = await import('./status-view.js');
    return statusCommand(opts, io);
  },
});

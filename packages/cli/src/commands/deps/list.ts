import { common, defineCommand } from '../../define.js';
import { storeOption } from '../../options.js';

export const list = defineCommand({
  name: 'list',
  description: 'Pending requests, and conflicting versions of one package',
  options: { run: common.run(), store: storeOption(), json: common.json() },
  examples: ['orch deps list --json', 'orch deps list --store redis://10.0.0.5:6379/0'],
  async handler({ opts }, io) {
    const { depsList } = await import('./requests.js');
    return depsList(opts, io);
  },
});

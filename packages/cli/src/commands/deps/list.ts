import { common, defineCommand } from '../../define.js';

export const list = defineCommand({
  name: 'list',
  description: 'Pending requests, and conflicting versions of one package',
  options: { run: common.run(), json: common.json() },
  examples: ['orch deps list --json'],
  async handler({ opts }, io) {
    const { depsList } = await import('./requests.js');
    return depsList(opts, io);
  },
});

import { common, defineCommand } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

export const list = defineCommand({
  name: 'list',
  description: 'Pending requests, and conflicting versions of one package',
  options: { run: common.run(), json: common.json() },
  examples: ['orch deps list --json'],
  async handler({ opts }) {
    const { depsList } = await import('./requests.js');
    await depsList(opts);
    return { exitCode: ExitCode.Ok };
  },
});

import { common, defineCommand } from '../../define.js';

export const abort = defineCommand({
  name: 'abort',
  description:
    'Stop an unfinished run, remove its sessions, worktrees and branches, and restore every ref it moved (uncommitted and unmerged work is kept on archive branches)',
  options: { run: common.run(), yes: common.yes(), json: common.json() },
  examples: ['orch state abort --yes'],
  async handler({ opts }, io) {
    const { abortCommand } = await import('./abort-run.js');
    return abortCommand(opts, io);
  },
});

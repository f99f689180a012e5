import { common, defineCommand, opt } from '../../define.js';

export const clean = defineCommand({
  name: 'clean',
  description:
    "Remove finished runs' staging and archive branches, worktrees and run folders (never a live run or your branches)",
  options: {
    // Not common.run(): here --run narrows the many finished runs cleaned to one.
    run: opt.text('--run <id>', 'only this run (default: every finished run)'),
    dryRun: common.dryRun('only list what would be removed'),
    yes: common.yes(),
    json: common.json(),
  },
  examples: ['orch state clean --dry-run', 'orch state clean --run 20261121-053000-a1b2 --yes'],
  async handler({ opts }, io) {
    const { cleanCommand } = await import('./clean-runs.js');
    return cleanCommand(opts, io);
  },
});

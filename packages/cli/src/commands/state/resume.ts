import { common, defineCommand, opt } from '../../define.js';
import { storeOption } from '../../options.js';

export const resume = defineCommand({
  name: 'resume',
  description:
    'Continue an interrupted run exactly where it stopped (reconciles the journal with git and tmux)',
  options: {
    run: common.run(),
    store: storeOption(),
    dryRun: common.dryRun('only say what would be done, task by task'),
    detach: opt.flag('--detach', 'run the supervisor in the background'),
    // Accepted like `orch run --no-tui` so scripts can pass the same flags; resume prints plain lines.
    tui: opt.negatable('--no-tui', 'print plain progress lines (what resume always does)'),
    json: common.json(),
  },
  examples: [
    'orch state resume --dry-run',
    'orch state resume --run 20261121-053000-a1b2',
    'ORCH_RUN_KEY_FILE=~/run.key orch state resume --store redis://10.0.0.5:6379/0 --dry-run',
  ],
  async handler({ opts }, io) {
    const { resumeCommand } = await import('./resume-run.js');
    return resumeCommand(opts, io);
  },
});

import { common, defineCommand, opt } from '../../define.js';
import { storeOption } from '../../options.js';

export const resume = defineCommand({
  name: 'resume',
  description:
    'Continue an interrupted run exactly where it stopped (reconciles the journal with git and tmux)',
  options: {
    run: common.run(),
    store: storeOption(),
    remote: opt.text(
      '--remote <url>',
      "with --store: the run's git remote as this machine reaches it (default: config store.remote, else the one the run started with)",
    ),
    workdir: opt.text(
      '--workdir <dir>',
      "with --store, away from the run's checkout: a folder for the supervisor's clone of the remote (made or reused)",
    ),
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
    'orch state resume --store redis://10.0.0.5:6379/0   # in the checkout the run started from',
    'ORCH_RUN_KEY_FILE=~/run.key orch state resume --store redis://10.0.0.5:6379/0 --remote ssh://git@repo.example/app.git --workdir ~/orch-takeover',
  ],
  epilog: `With --store the dead supervisor's lease is taken over once it expired and the run continues here on
the store's ports: in the run's own checkout when this is it, otherwise in --workdir (a clone of
--remote with the run's files rebuilt from the store; the key from ORCH_RUN_KEY_FILE). A supervisor
away from the user's checkout promotes by fast-forwarding the base branch on the remote: pull it.`,
  async handler({ opts }, io) {
    const { resumeCommand } = await import('./resume-run.js');
    return resumeCommand(opts, io);
  },
});

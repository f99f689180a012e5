import { arg, common, defineCommand, opt } from '../../define.js';

export const demo = defineCommand({
  name: 'demo',
  description:
    'Build a small sample project and run a 7-task plan on it end to end with shell workers (offline, no API key)',
  args: {
    dir: arg.optional(
      'dir',
      'a new or empty folder for the sample project (default: a new temporary folder)',
    ),
  },
  options: {
    tui: opt.negatable('--no-tui', 'print plain progress lines instead of the live dashboard'),
    keep: opt.flag('--keep', 'keep the temporary folder afterwards (a folder you name is always kept)'),
    json: common.json('print the summary as JSON instead of progress lines'),
  },
  help: `The demo creates a git repository with code and tests (run by Node's own \`node --test\`), writes a
plan of seven tasks in three dependency waves for the built-in shell agent, and runs it: staging
branch, a worktree and a tmux worker per task, verification, merges, incremental checks, final
integration and promotion of main. One task first writes outside its files on purpose: watch the
boundary check reject it and the retry succeed.`,
  examples: ['orch demo', 'orch demo ./textkit-demo --no-tui', 'orch demo --keep --json'],
  async handler({ args, opts }) {
    const { demoCommand } = await import('./demo-run.js');
    return { exitCode: await demoCommand(args.dir, opts) };
  },
});

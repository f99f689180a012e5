import { Option, type Command } from 'commander';

const panesOption = (): Option =>
  new Option('--panes <source>', 'where worker output comes from: worker logs, or tmux capture-pane')
    .choices(['log', 'tmux'])
    .default('log');

export function register(program: Command): void {
  program
    .command('dashboard')
    .description('Live view of a run: every task with status, agent, context, cost and time (q quits)')
    .option('--run <id>', 'run id (default: the current run)')
    .option('--once', 'print one plain frame and exit (also the behaviour without a terminal)')
    .option('--json', 'print the run state as JSON')
    .addOption(panesOption())
    .addHelpText(
      'after',
      `
Keys: ↑/↓ select a task, enter opens its log, verification report and mailbox,
w switches to the workers view, esc goes back, q quits.

Examples:
  $ orch dashboard
  $ orch dashboard --once --run 20261121-053000-a1b2`,
    )
    .action(async (opts: { run?: string; once?: boolean; json?: boolean; panes?: 'log' | 'tmux' }) => {
      const { dashboardCommand } = await import('../views/dashboard.js');
      await dashboardCommand(opts);
    });

  program
    .command('workers')
    .description(
      'Live grid of the running workers and their latest output; finished ones collapse to one line',
    )
    .option('--run <id>', 'run id (default: the current run)')
    .option('--once', 'print one plain frame and exit (also the behaviour without a terminal)')
    .option('--json', 'print the workers and their latest output lines as JSON')
    .addOption(panesOption())
    .addHelpText('after', '\nExamples:\n  $ orch workers\n  $ orch workers --once --panes tmux')
    .action(async (opts: { run?: string; once?: boolean; json?: boolean; panes?: 'log' | 'tmux' }) => {
      const { workersCommand } = await import('../views/dashboard.js');
      await workersCommand(opts);
    });
}

import { InvalidArgumentError, type Command } from 'commander';

export function register(program: Command): void {
  const state = program
    .command('state')
    .description('Look at runs, continue an interrupted one, abort one, or clean up finished ones')
    .addHelpText(
      'after',
      '\nExamples:\n  $ orch state status\n  $ orch state list --json\n  $ orch state resume --dry-run',
    );

  state
    .command('status')
    .description('Phase, commits and every task of a run, with evidence, timestamps, tokens and cost')
    .option('--run <id>', 'run id (default: the newest run)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  $ orch state status --json')
    .action(async (opts: { run?: string; json?: boolean }) => {
      const { statusCommand } = await import('../state-cmd/status.js');
      await statusCommand(opts);
    });

  state
    .command('list')
    .description('The runs of this repository, newest first')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  $ orch state list')
    .action(async (opts: { json?: boolean }) => {
      const { listCommand } = await import('../state-cmd/status.js');
      await listCommand(opts);
    });

  state
    .command('resume')
    .description(
      'Continue an interrupted run exactly where it stopped (reconciles the journal with git and tmux)',
    )
    .option('--run <id>', 'run id (default: the newest run)')
    .option('--dry-run', 'only say what would be done, task by task')
    .option('--detach', 'run the supervisor in the background')
    // Accepted like `orch run --no-tui` so scripts can pass the same flags; resume prints plain lines.
    .option('--no-tui', 'print plain progress lines (what resume always does)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ orch state resume --dry-run\n  $ orch state resume --run 20261121-053000-a1b2',
    )
    .action(async (opts: Record<string, unknown>) => {
      const { resumeCommand } = await import('../state-cmd/resume.js');
      await resumeCommand(opts);
    });

  state
    .command('abort')
    .description(
      'Stop an unfinished run, remove its sessions, worktrees and branches, and restore every ref it moved (uncommitted and unmerged work is kept on archive branches)',
    )
    .option('--run <id>', 'run id (default: the newest run)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  $ orch state abort --yes')
    .action(async (opts: { run?: string; yes?: boolean; json?: boolean }) => {
      const { abortCommand } = await import('../state-cmd/abort.js');
      await abortCommand(opts);
    });

  state
    .command('clean')
    .description(
      "Remove finished runs' staging and archive branches, worktrees and run folders (never a live run or your branches)",
    )
    .option('--run <id>', 'only this run (default: every finished run)')
    .option('--dry-run', 'only list what would be removed')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ orch state clean --dry-run\n  $ orch state clean --run 20261121-053000-a1b2 --yes',
    )
    .action(async (opts: { run?: string; dryRun?: boolean; yes?: boolean; json?: boolean }) => {
      const { cleanCommand } = await import('../state-cmd/clean.js');
      await cleanCommand(opts);
    });

  program
    .command('wait')
    .description('Wait until a run finishes or the timeout passes')
    .option('--run <id>', 'run id (default: the newest run)')
    .option('--timeout <seconds>', 'give up waiting after this many seconds (default 540)', parseSeconds, 540)
    .option('--json', 'print the state as JSON')
    .addHelpText(
      'after',
      `
Example:
  $ orch wait --timeout 540 || echo "not finished yet"`,
    )
    .action(async (opts: { run?: string; timeout: number; json?: boolean }) => {
      const { waitCommand } = await import('../state-cmd/status.js');
      await waitCommand(opts);
    });
}

function parseSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`expected seconds (a number >= 0), got "${v}"`);
  return n;
}

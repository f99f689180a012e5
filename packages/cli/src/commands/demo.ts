import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'Build a small sample project and run a 7-task plan on it end to end with shell workers (offline, no API key)',
    )
    .argument('[dir]', 'a new or empty folder for the sample project (default: a new temporary folder)')
    .option('--no-tui', 'print plain progress lines instead of the live dashboard')
    .option('--keep', 'keep the temporary folder afterwards (a folder you name is always kept)')
    .option('--json', 'print the summary as JSON instead of progress lines')
    .addHelpText(
      'after',
      `
The demo creates a git repository with code and tests (run by Node's own \`node --test\`), writes a
plan of seven tasks in three dependency waves for the built-in shell agent, and runs it: staging
branch, a worktree and a tmux worker per task, verification, merges, incremental checks, final
integration and promotion of main. One task first writes outside its files on purpose: watch the
boundary check reject it and the retry succeed.

Examples:
  $ orch demo
  $ orch demo ./textkit-demo --no-tui
  $ orch demo --keep --json`,
    )
    .action(async (dir: string | undefined, opts: { tui?: boolean; keep?: boolean; json?: boolean }) => {
      const { demoCommand } = await import('../demo/run.js');
      await demoCommand(dir, opts);
    });
}

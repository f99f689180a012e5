import type { Command } from 'commander';

export interface VerifyOptions {
  run?: string;
  json: boolean;
  worktree?: string;
  base?: string;
  plan?: string;
  envHash?: string;
  depsApproved: boolean;
}

export function register(program: Command): void {
  program
    .command('verify')
    .description("Check a task's work: boundaries, verification commands, contracts and environment")
    .argument('<task>', 'task id from the plan')
    .option('--run <id>', 'the run the task belongs to (default: ORCH_RUN, else the current run)')
    .option('--worktree <dir>', 'verify this worktree without a run (needs --base and --plan)')
    .option('--base <commit>', 'without a run: the commit the task started from')
    .option('--plan <file>', 'without a run: the plan (tasks.yaml)')
    .option('--env-hash <hash>', "the expected lockfile hash (default: the run's, or the base commit's)")
    .option('--deps-approved', 'the task has an approved dependency request: lockfiles may change', false)
    .option('--json', 'print the report as JSON', false)
    .addHelpText(
      'after',
      [
        '',
        'Leftover uncommitted changes in the worktree are committed first (by orch, saying so).',
        'Exits 0 when every check passed, 1 when one failed. The report and full command logs are',
        'kept under .orchestrator/ (the path is printed); see docs/verification.md.',
        '',
        'Examples:',
        '  $ orch verify api-auth',
        '  $ orch verify api-auth --run 20250101-120000-ab12 --json',
        '  $ orch verify api-auth --worktree .worktrees/api-auth --base main --plan tasks.yaml',
      ].join('\n'),
    )
    .action(async (task: string, opts: VerifyOptions) => {
      const { runVerifyCommand } = await import('../verify-cmd/run.js');
      process.exitCode = await runVerifyCommand(task, opts);
    });
}

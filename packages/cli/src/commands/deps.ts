import type { Command } from 'commander';

export function register(program: Command): void {
  const deps = program
    .command('deps')
    .description('Dependency requests from workers: list, approve (install on staging) or deny them')
    .addHelpText(
      'after',
      '\nExamples:\n  $ orch deps list\n  $ orch deps approve api\n  $ orch deps deny ui --reason "use fetch, not axios"',
    );

  deps
    .command('list')
    .description('Pending requests, and conflicting versions of one package')
    .option('--run <id>', 'run id (default: the newest run)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  $ orch deps list --json')
    .action(async (opts: { run?: string; json?: boolean }) => {
      const { depsList } = await import('../deps-cmd/deps.js');
      await depsList(opts);
    });

  deps
    .command('approve')
    .description(
      "Install the requested packages on staging with the project's package manager and restart the workers",
    )
    .argument('[task]', 'the task whose request to approve')
    .option('--all', 'approve every pending request')
    .option('--run <id>', 'run id (default: the newest run)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  $ orch deps approve api\n  $ orch deps approve --all')
    .action(async (task: string | undefined, opts: { all?: boolean; run?: string; json?: boolean }) => {
      const { depsApprove } = await import('../deps-cmd/deps.js');
      await depsApprove(task, opts);
    });

  deps
    .command('deny')
    .description('Refuse a request; the worker is told why and starts again without it')
    .argument('<task>', 'the task whose request to deny')
    .requiredOption('--reason <text>', 'why (the worker reads it)')
    .option('--run <id>', 'run id (default: the newest run)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  $ orch deps deny ui --reason "use the built-in fetch"')
    .action(async (task: string, opts: { reason: string; run?: string; json?: boolean }) => {
      const { depsDeny } = await import('../deps-cmd/deps.js');
      await depsDeny(task, opts);
    });
}

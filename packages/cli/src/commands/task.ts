import type { Command } from 'commander';

interface Common {
  run?: string;
  task?: string;
  json: boolean;
}

function common(cmd: Command): Command {
  return cmd
    .option('--run <id>', 'the run (default: ORCH_RUN, else the current run)')
    .option('--task <id>', 'the task (default: ORCH_TASK; a worker may name only its own)')
    .option('--json', 'print the recorded event as JSON', false);
}

export function register(program: Command): void {
  const task = program
    .command('task')
    .description("Report a worker's status to orch (run inside a worker; ORCH_* variables find the run)")
    .addHelpText(
      'after',
      '\nExamples:\n  $ orch task progress "tests for the parser pass"\n  $ orch task done --summary "parser and its tests"\n  $ orch task block --needs "lodash@4" --reason "deep merge"',
    );

  common(
    task
      .command('progress')
      .description('Record a progress message for the task')
      .argument('<message>', 'what the worker is doing now'),
  )
    .addHelpText(
      'after',
      '\nExample:\n  $ orch task progress "tests for the parser pass; wiring the CLI next"',
    )
    .action(async (message: string, opts: Common) => {
      const { reportTask } = await import('../store-cmds/task.js');
      process.exitCode = await reportTask({ kind: 'progress', message }, opts);
    });

  common(
    task
      .command('done')
      .description('Report the task finished; orch then verifies and merges it')
      .requiredOption('--summary <text>', 'what was done'),
  )
    .addHelpText('after', '\nExample:\n  $ orch task done --summary "added the /login route and its tests"')
    .action(async (opts: Common & { summary: string }) => {
      const { reportTask } = await import('../store-cmds/task.js');
      process.exitCode = await reportTask({ kind: 'done', summary: opts.summary }, opts);
    });

  common(
    task
      .command('fail')
      .description('Report that the task cannot be done')
      .requiredOption('--reason <text>', 'why it failed'),
  )
    .addHelpText(
      'after',
      '\nExample:\n  $ orch task fail --reason "the contract has no field for the user id"',
    )
    .action(async (opts: Common & { reason: string }) => {
      const { reportTask } = await import('../store-cmds/task.js');
      process.exitCode = await reportTask({ kind: 'fail', reason: opts.reason }, opts);
    });

  common(
    task
      .command('block')
      .description('Report that the task needs something first (a package, another task)')
      .requiredOption('--needs <dep>', 'what is needed, e.g. a package spec "zod@^4"')
      .requiredOption('--reason <text>', 'why it is needed'),
  )
    .addHelpText(
      'after',
      '\nExample:\n  $ orch task block --needs "date-fns@^4" --reason "parsing ISO week dates"',
    )
    .action(async (opts: Common & { needs: string; reason: string }) => {
      const { reportTask } = await import('../store-cmds/task.js');
      process.exitCode = await reportTask({ kind: 'block', needs: opts.needs, reason: opts.reason }, opts);
    });
}

import type { Command } from 'commander';

interface Json {
  json: boolean;
}

export function register(program: Command): void {
  const context = program
    .command('context')
    .description("Shared context of the repository: facts workers record for each other's prompts")
    .addHelpText(
      'after',
      '\nExamples:\n  $ orch context set api.base_url "/api/v2"\n  $ orch context get-for-task ui',
    );

  context
    .command('set')
    .description('Set a key (the value is parsed as JSON when it is JSON, else kept as text)')
    .argument('<key>', 'for example api.dates')
    .argument('<value>', 'JSON or text')
    .option('--from <id>', 'who records it (default: ORCH_TASK, else "user")')
    .option('--json', 'print the entry as JSON', false)
    .addHelpText('after', '\nExample:\n  $ orch context set api.dates "ISO 8601 strings in UTC" --from api')
    .action(async (key: string, value: string, o: Json & { from?: string }) => {
      const { setCommand } = await import('../store-cmds/context.js');
      process.exitCode = await setCommand(key, value, o);
    });

  context
    .command('get')
    .description('Print the value of a key (or a dotted path into a value)')
    .argument('<key>', 'the key')
    .option('--json', 'print the entry as JSON', false)
    .addHelpText('after', '\nExample:\n  $ orch context get api.dates')
    .action(async (key: string, o: Json) => {
      const { getCommand } = await import('../store-cmds/context.js');
      process.exitCode = await getCommand(key, o);
    });

  context
    .command('list')
    .description('List every entry')
    .option('--json', 'print the entries as JSON', false)
    .addHelpText('after', '\nExample:\n  $ orch context list --json')
    .action(async (o: Json) => {
      const { listCommand } = await import('../store-cmds/context.js');
      process.exitCode = await listCommand(o);
    });

  context
    .command('search')
    .description('List entries whose key or value contains the text (case-insensitive)')
    .argument('<text>', 'what to look for')
    .option('--json', 'print the entries as JSON', false)
    .addHelpText('after', '\nExample:\n  $ orch context search auth')
    .action(async (text: string, o: Json) => {
      const { searchCommand } = await import('../store-cmds/context.js');
      process.exitCode = await searchCommand(text, o);
    });

  context
    .command('delete')
    .description('Delete a key (exit 1 when it did not exist)')
    .argument('<key>', 'the key')
    .option('--json', 'print {key, deleted} as JSON', false)
    .addHelpText('after', '\nExample:\n  $ orch context delete api.dates')
    .action(async (key: string, o: Json) => {
      const { deleteCommand } = await import('../store-cmds/context.js');
      process.exitCode = await deleteCommand(key, o);
    });

  context
    .command('get-for-task')
    .description(
      'Print the entries relevant to a task as Markdown for its prompt (context_keys, keywords, paths)',
    )
    .argument('<task>', 'a task id of the plan')
    .option('--plan <file>', "the plan (default: the run's saved plan, else tasks.yaml)")
    .option('--run <id>', 'the run whose plan to use (default: ORCH_RUN, else the current run)')
    .option('--json', 'print {task, markdown} as JSON', false)
    .addHelpText('after', '\nExample:\n  $ orch context get-for-task api --plan tasks.yaml')
    .action(async (task: string, o: Json & { plan?: string; run?: string }) => {
      const { getForTaskCommand } = await import('../store-cmds/context.js');
      process.exitCode = await getForTaskCommand(task, o);
    });
}

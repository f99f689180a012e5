import { Argument, type Command } from 'commander';

export function register(program: Command): void {
  program
    .command('schema')
    .description('Print the JSON Schema of tasks.yaml (plan) or of the config file (config)')
    .addArgument(new Argument('<name>', 'which schema').choices(['plan', 'config']))
    .addHelpText(
      'after',
      '\nThe same files ship in the package under schemas/; files that orch init writes point editors at them.\n\nExample:\n  $ orch schema plan > tasks.schema.json',
    )
    .action(async (name: 'plan' | 'config') => {
      const { jsonSchemaText } = await import('@orch/core');
      const { writeOut } = await import('../../output.js');
      await writeOut(jsonSchemaText(name));
      process.exitCode = 0;
    });
}

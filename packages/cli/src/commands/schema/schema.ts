import { arg, defineCommand } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

export const schema = defineCommand({
  name: 'schema',
  description: 'Print the JSON Schema of tasks.yaml (plan) or of the config file (config)',
  args: { name: arg.choice('name', 'which schema', ['plan', 'config']) },
  help: 'The same files ship in the package under schemas/; files that orch init writes point editors at them.',
  examples: ['orch schema plan > tasks.schema.json'],
  async handler({ args }) {
    const { jsonSchemaText } = await import('@orch/core');
    return { exitCode: ExitCode.Ok, lines: [jsonSchemaText(args.name).replace(/\n$/, '')] };
  },
});

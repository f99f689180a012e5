import { arg, defineCommand } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

const NAMES = ['plan', 'config'] as const;

export const schema = defineCommand({
  name: 'schema',
  description: 'Print the JSON Schema of tasks.yaml (plan) or of the config file (config)',
  args: { name: arg.required('name', 'which schema: plan or config') },
  help: 'The same files ship in the package under schemas/; files that orch init writes point editors at them.',
  examples: ['orch schema plan > tasks.schema.json'],
  async handler({ args }, ctx) {
    const name = NAMES.find((n) => n === args.name);
    if (!name) {
      ctx.stderr.write(`error: schema must be one of ${NAMES.join(', ')}, got "${args.name}"\n`);
      return ctx.usage();
    }
    const { jsonSchemaText } = await import('@orch/core');
    return { exitCode: ExitCode.Ok, lines: [jsonSchemaText(name).replace(/\n$/, '')] };
  },
});

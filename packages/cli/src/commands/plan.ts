import type { Command } from 'commander';
import { ExitCode } from '@orch/core/errors';
import { DEFAULT_PLAN_FILE } from './plan-file.js';

interface PlanOpts {
  output?: string;
  yes?: boolean;
  json?: boolean;
  agent?: string;
  model?: string;
}

export function register(program: Command): void {
  const plan = program
    .command('plan')
    .description('Write a plan (tasks.yaml) for a request, or check one (orch plan check)')
    .argument('[request]', 'what to build, in words (runs the planner agent)')
    .option('-o, --output <file>', 'where to write the plan', 'tasks.yaml')
    .option('--yes', 'accept the plan without asking', false)
    .option('--json', 'print the result as JSON', false)
    .option('--agent <name>', 'planner agent (default from config)')
    .option('--model <m>', 'model for the planner agent')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ orch plan "add rate limiting to the API" -o tasks.yaml',
        '  $ orch plan check tasks.yaml',
      ].join('\n'),
    )
    .action(async (request: string | undefined, opts: PlanOpts, cmd: Command) => {
      if (request === undefined || request.trim() === '') {
        cmd.outputHelp({ error: true });
        process.exitCode = ExitCode.Usage;
        return;
      }
      const { planGenerate } = await import('./plan-generate.js');
      process.exitCode = await planGenerate(request, opts);
    });

  plan
    .command('check')
    .description('Check a plan: schema, dependency graph, conflicts, risk and contracts in one report')
    .argument(
      '[plan]',
      'the plan file (tasks.yaml or .json; found at the repository root too)',
      DEFAULT_PLAN_FILE,
    )
    .option('--json', 'print the report as JSON', false)
    .option(
      '--config <file>',
      'config file (default: orch.yaml, .orch/config.yaml or .claude-agents.yaml at the repository root)',
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ orch plan check tasks.yaml',
        '  $ orch plan check tasks.yaml --json --config .claude-agents.yaml',
      ].join('\n'),
    )
    .action(async (file: string, opts: { json?: boolean; config?: string }) => {
      const { runPlanCheck } = await import('../analyze/run.js');
      process.exitCode = await runPlanCheck(file, opts);
    });
}

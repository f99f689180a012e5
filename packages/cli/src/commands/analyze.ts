import type { Command } from 'commander';

const examples = (...lines: string[]): string => ['', 'Example:', ...lines.map((l) => `  $ ${l}`)].join('\n');

export function register(program: Command): void {
  program
    .command('dag')
    .description('Check the dependency graph of a plan; print its waves and critical path')
    .argument('<plan>', 'the plan file (tasks.yaml or .json)')
    .option(
      '--json',
      'print {valid, errors, waves, total_waves, total_tasks, critical_path, ...} as JSON',
      false,
    )
    .addHelpText(
      'after',
      `\nExits 1 on unknown dependencies or a cycle.${examples('orch dag tasks.yaml', 'orch dag tasks.yaml --json')}`,
    )
    .action(async (file: string, opts: { json?: boolean }) => {
      const { runDag } = await import('../analyze/run.js');
      process.exitCode = await runDag(file, opts);
    });

  program
    .command('conflicts')
    .description('Find file and resource conflicts between tasks that may run at the same time')
    .argument('<plan>', 'the plan file (tasks.yaml or .json)')
    .option('--json', 'print {conflicts: [{type, target, tasks, detail, suggestion}], count} as JSON', false)
    .addHelpText(
      'after',
      `\nExits 1 when there is any conflict.${examples('orch conflicts tasks.yaml --json')}`,
    )
    .action(async (file: string, opts: { json?: boolean }) => {
      const { runConflicts } = await import('../analyze/run.js');
      process.exitCode = await runConflicts(file, opts);
    });

  program
    .command('risk')
    .description("Score a plan's risk and decide whether it may run without a human's approval")
    .argument('<plan>', 'the plan file (tasks.yaml or .json)')
    .option('--json', 'print {score, factors, auto_approve, auto_approve_threshold, status} as JSON', false)
    .option(
      '--config <file>',
      'config file (default: orch.yaml, .orch/config.yaml or .claude-agents.yaml at the repository root)',
    )
    .addHelpText(
      'after',
      `\nExits 0 when the score is at or below the threshold (auto-approve), 3 when it needs approval.${examples(
        'orch risk tasks.yaml',
        'orch risk tasks.yaml --config .claude-agents.yaml --json',
      )}`,
    )
    .action(async (file: string, opts: { json?: boolean; config?: string }) => {
      const { runRisk } = await import('../analyze/run.js');
      process.exitCode = await runRisk(file, opts);
    });

  const env = program
    .command('env')
    .description("The environment hash over the repository's tracked lockfiles")
    .addHelpText('after', examples('orch env hash', 'orch env verify 3f2a9c0d1e4b5a67'));
  env
    .command('hash')
    .description('Print the environment hash (every tracked lockfile, nested ones included)')
    .option('--json', 'print {hash, lockfiles} as JSON', false)
    .addHelpText('after', examples('orch env hash --json'))
    .action(async (opts: { json?: boolean }) => {
      const { runEnvHash } = await import('../analyze/run.js');
      process.exitCode = await runEnvHash(opts);
    });
  env
    .command('verify')
    .description('Compare the environment hash with an expected one')
    .argument('<hash>', 'the expected hash (from `orch env hash`)')
    .option('--json', 'print {match, expected, actual, lockfiles} as JSON', false)
    .addHelpText('after', `\nExits 0 on a match, 1 otherwise.${examples('orch env verify 3f2a9c0d1e4b5a67')}`)
    .action(async (hash: string, opts: { json?: boolean }) => {
      const { runEnvVerify } = await import('../analyze/run.js');
      process.exitCode = await runEnvVerify(hash, opts);
    });

  const contracts = program
    .command('contracts')
    .description('Generate contract stubs and check the contracts of a plan')
    .addHelpText(
      'after',
      examples(
        'orch contracts gen Calculator add subtract --lang ts -o contracts/calculator.ts',
        'orch contracts check tasks.yaml',
      ),
    );
  contracts
    .command('gen')
    .description('Render a contract stub (TypeScript interface, Python Protocol or Go interface)')
    .argument('<Name>', 'the contract (interface) name')
    .argument('<method...>', 'method names')
    .requiredOption('--lang <lang>', 'ts, py or go')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--version <v>', 'version in the header (default: a hash of the content)')
    .option('--json', 'print {name, lang, version, path, content} as JSON', false)
    .addHelpText(
      'after',
      examples('orch contracts gen CalculatorProtocol add subtract --lang py -o contracts/calculator.py'),
    )
    .action(
      async (
        name: string,
        methods: string[],
        opts: { lang: string; output?: string; version?: string; json?: boolean },
      ) => {
        const { runContractsGen } = await import('../analyze/run.js');
        process.exitCode = await runContractsGen(name, methods, opts);
      },
    );
  contracts
    .command('check')
    .description("Check that every contract of a plan exists and carries the plan's version")
    .argument('<plan>', 'the plan file (tasks.yaml or .json)')
    .option('--json', 'print the report as JSON', false)
    .addHelpText(
      'after',
      `\nExits 0 when every contract matches, 1 otherwise.${examples('orch contracts check tasks.yaml --json')}`,
    )
    .action(async (file: string, opts: { json?: boolean }) => {
      const { runContractsCheck } = await import('../analyze/run.js');
      process.exitCode = await runContractsCheck(file, opts);
    });
}

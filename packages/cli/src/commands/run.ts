import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_PLAN_FILE } from './plan-file.js';

export function register(program: Command): void {
  program
    .command('run')
    .description(
      'Run a plan: staging branch, a worktree and a worker per task, verification, merges, promotion',
    )
    .argument('[plan]', 'the plan file (found at the repository root too)', DEFAULT_PLAN_FILE)
    .option('--max-workers <n>', 'how many workers at once (default: config, 5)', parsePositive)
    .option(
      '--agent <name>',
      'agent for tasks that do not name one (claude, codex, gemini, aider, command, shell)',
    )
    .option('--model <model>', 'model for tasks that do not name one')
    .option('--base <branch>', 'branch to build on and promote to (default: the current branch)')
    .option('-y, --yes', 'approve a plan that needs approval without asking')
    .option('--detach', 'run the supervisor in the background (orch tmux server) and return at once')
    .option('--no-tui', 'print plain progress lines instead of the live dashboard')
    .option('--no-promote', 'leave the result on the staging branch instead of promoting it')
    .option('--json', 'print the final state as JSON')
    .addOption(new Option('--run-id <id>').hideHelp())
    .addHelpText(
      'after',
      `
Examples:
  $ orch run tasks.yaml
  $ orch run tasks.yaml --max-workers 8 --agent claude --yes
  $ orch run --detach && orch wait --timeout 540

In a terminal, the first Ctrl-C closes the dashboard (the run goes on with plain lines), the second
stops the run (exit 4). A closed terminal does not stop it: the run goes on and logs to
.orchestrator/runs/<run>/supervisor.log.`,
    )
    .action(async (plan: string, opts: Record<string, unknown>) => {
      const { runCommand } = await import('../run-cmd/run.js');
      await runCommand(plan, opts);
    });

  program
    .command('_supervise', { hidden: true })
    .requiredOption('--run <id>')
    .option('--no-promote')
    .option('--resume')
    .action(async (opts: { run: string; promote: boolean; resume?: boolean }) => {
      const { superviseCommand } = await import('../run-cmd/run.js');
      await superviseCommand(opts.run, { noPromote: !opts.promote, resume: opts.resume === true });
    });

  program
    .command('_exec', { hidden: true })
    .argument('<spec>', 'the JSON file the supervisor wrote for this attempt')
    .action(async (spec: string) => {
      const { execCommand } = await import('../run-cmd/exec.js');
      await execCommand(spec);
    });
}

function parsePositive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a positive whole number, got "${v}"`);
  }
  return n;
}

import { arg, common, defineCommand, opt, parse } from '../../define.js';
import { DEFAULT_PLAN_FILE } from '../plan/plan-file.js';

export const run = defineCommand({
  name: 'run',
  description:
    'Run a plan: staging branch, a worktree and a worker per task, verification, merges, promotion',
  args: {
    plan: arg.withDefault('plan', 'the plan file (found at the repository root too)', DEFAULT_PLAN_FILE),
  },
  options: {
    maxWorkers: opt.parsed(
      '--max-workers <n>',
      'how many workers at once (default: config, 5)',
      parse.positiveInt,
    ),
    agent: opt.text(
      '--agent <name>',
      'agent for tasks that do not name one (claude, codex, gemini, aider, command, shell)',
    ),
    model: opt.text('--model <model>', 'model for tasks that do not name one'),
    base: opt.text('--base <branch>', 'branch to build on and promote to (default: the current branch)'),
    yes: opt.flag('-y, --yes', 'approve a plan that needs approval without asking'),
    detach: opt.flag(
      '--detach',
      'run the supervisor in the background (orch tmux server) and return at once',
    ),
    tui: opt.negatable('--no-tui', 'print plain progress lines instead of the live dashboard'),
    promote: opt.negatable('--no-promote', 'leave the result on the staging branch instead of promoting it'),
    store: opt.text(
      '--store <url>',
      'a distributed run: its journal in this Redis store, redis://HOST:PORT/DB (password: ORCH_REDIS_PASSWORD); config store.url',
    ),
    remote: opt.text(
      '--remote <url>',
      'a distributed run: the git remote the supervisor and every `orch host` share; config store.remote',
    ),
    json: common.json('print the final state as JSON'),
    runId: opt.text('--run-id <id>', '', { hidden: true }),
  },
  examples: [
    'orch run tasks.yaml',
    'orch run tasks.yaml --max-workers 8 --agent claude --yes',
    'orch run --detach && orch wait --timeout 540',
    'orch run tasks.yaml --store redis://10.0.0.5:6379/0 --remote ssh://git@repo.example/app.git',
  ],
  epilog: `In a terminal, the first Ctrl-C closes the dashboard (the run goes on with plain lines), the second
stops the run (exit 4). A closed terminal does not stop it: the run goes on and logs to
.orchestrator/runs/<run>/supervisor.log.`,
  async handler({ args, opts }) {
    const { runCommand } = await import('./runner.js');
    return { exitCode: await runCommand(args.plan, opts) };
  },
});

import { arg, common, defineCommand, opt, type Values } from '../../define.js';

const options = {
  run: common.run(),
  worktree: opt.text('--worktree <dir>', 'verify this worktree without a run (needs --base and --plan)'),
  base: opt.text('--base <commit>', 'without a run: the commit the task started from'),
  plan: opt.text('--plan <file>', 'without a run: the plan (tasks.yaml)'),
  envHash: opt.text(
    '--env-hash <hash>',
    "the expected lockfile hash (default: the run's, or the base commit's)",
  ),
  depsApproved: opt.flag(
    '--deps-approved',
    'the task has an approved dependency request: lockfiles may change',
  ),
  json: common.json('print the report as JSON'),
};
export type VerifyOptions = Values<typeof options>;

export const verify = defineCommand({
  name: 'verify',
  description: "Check a task's work: boundaries, verification commands, contracts and environment",
  args: { task: arg.required('task', 'task id from the plan') },
  options,
  help: [
    'Leftover uncommitted changes in the worktree are committed first (by orch, saying so).',
    'Exits 0 when every check passed, 1 when one failed. The report and full command logs are',
    'kept under .orchestrator/ (the path is printed); see docs/verification.md.',
  ].join('\n'),
  examples: [
    'orch verify api-auth',
    'orch verify api-auth --run 20250101-120000-ab12 --json',
    'orch verify api-auth --worktree .worktrees/api-auth --base main --plan tasks.yaml',
  ],
  async handler({ args, opts }, io) {
    const { runVerifyCommand } = await import('./verify-task.js');
    return runVerifyCommand(args.task, opts, io);
  },
});

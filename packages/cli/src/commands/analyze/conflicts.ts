import { arg, common, defineCommand } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

export const conflicts = defineCommand({
  name: 'conflicts',
  description: 'Find file and resource conflicts between tasks that may run at the same time',
  args: { plan: arg.required('plan', 'the plan file (tasks.yaml or .json)') },
  options: {
    json: common.json('print {conflicts: [{type, target, tasks, detail, suggestion}], count} as JSON'),
  },
  help: 'Exits 1 when there is any conflict.',
  examples: ['orch conflicts tasks.yaml --json'],
  async handler({ args, opts }, { cwd }) {
    const { detectConflicts, loadPlan } = await import('@orch/core');
    const { formatConflicts } = await import('./format.js');
    const { plan } = await loadPlan(args.plan, { cwd });
    const r = detectConflicts(plan);
    const exitCode = r.count === 0 ? ExitCode.Ok : ExitCode.Failed;
    return opts.json ? { exitCode, json: r } : { exitCode, lines: formatConflicts(r) };
  },
});

import { arg, common, defineCommand } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

export const dag = defineCommand({
  name: 'dag',
  description: 'Check the dependency graph of a plan; print its waves and critical path',
  args: { plan: arg.required('plan', 'the plan file (tasks.yaml or .json)') },
  options: {
    json: common.json('print {valid, errors, waves, total_waves, total_tasks, critical_path, ...} as JSON'),
  },
  help: 'Exits 1 on unknown dependencies or a cycle.',
  examples: ['orch dag tasks.yaml', 'orch dag tasks.yaml --json'],
  async handler({ args, opts }, { cwd }) {
    const { analyzeDag, loadPlan } = await import('@orch/core');
    const { formatDag } = await import('./format.js');
    const { plan, doc } = await loadPlan(args.plan, { allowUnknownDependencies: true, cwd });
    const r = analyzeDag(plan, doc);
    const exitCode = r.valid ? ExitCode.Ok : ExitCode.Failed;
    return opts.json ? { exitCode, json: r } : { exitCode, lines: formatDag(r) };
  },
});

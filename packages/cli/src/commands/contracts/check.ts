import { dirname } from 'node:path';
import { arg, common, defineCommand } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

export const check = defineCommand({
  name: 'check',
  description: "Check that every contract of a plan exists and carries the plan's version",
  args: { plan: arg.required('plan', 'the plan file (tasks.yaml or .json)') },
  options: { json: common.json('print the report as JSON') },
  help: 'Exits 0 when every contract matches, 1 otherwise.',
  examples: ['orch contracts check tasks.yaml --json'],
  async handler({ args, opts }, { cwd }) {
    const { checkContracts, loadPlan } = await import('@orch/core');
    const { formatContracts } = await import('../analyze/format.js');
    const { nearestCheckoutRoot } = await import('@orch/store');
    const { plan, path } = await loadPlan(args.plan, { cwd });
    const r = await checkContracts(plan, nearestCheckoutRoot(dirname(path)));
    const exitCode = r.ok ? ExitCode.Ok : ExitCode.Failed;
    return opts.json ? { exitCode, json: r } : { exitCode, lines: formatContracts(r) };
  },
});

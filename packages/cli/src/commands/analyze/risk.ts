import { dirname } from 'node:path';
import { arg, common, defineCommand } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';
import { configPath } from './paths.js';

export const risk = defineCommand({
  name: 'risk',
  description: "Score a plan's risk and decide whether it may run without a human's approval",
  args: { plan: arg.required('plan', 'the plan file (tasks.yaml or .json)') },
  options: {
    json: common.json('print {score, factors, auto_approve, auto_approve_threshold, status} as JSON'),
    config: common.config(),
  },
  help: 'Exits 0 when the score is at or below the threshold (auto-approve), 3 when it needs approval.',
  examples: ['orch risk tasks.yaml', 'orch risk tasks.yaml --config .claude-agents.yaml --json'],
  async handler({ args, opts }, { cwd }) {
    const { loadConfig, loadPlan, scoreRisk } = await import('@orch/core');
    const { formatRisk } = await import('./format.js');
    const { nearestCheckoutRoot } = await import('@orch/store');
    const { plan, path } = await loadPlan(args.plan, { cwd });
    const config = await loadConfig(nearestCheckoutRoot(dirname(path)), configPath(cwd, opts.config));
    const r = scoreRisk(plan, config);
    const exitCode = r.auto_approve ? ExitCode.Ok : ExitCode.NeedsApproval;
    return opts.json ? { exitCode, json: r } : { exitCode, lines: formatRisk(r) };
  },
});

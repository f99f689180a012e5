import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { arg, common, defineCommand, type CommandResult } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';
import { configPath } from '../analyze/paths.js';
import { DEFAULT_PLAN_FILE } from './plan-file.js';

export const check = defineCommand({
  name: 'check',
  description: 'Check a plan: schema, dependency graph, conflicts, risk and contracts in one report',
  args: {
    plan: arg.withDefault(
      'plan',
      'the plan file (tasks.yaml or .json; found at the repository root too)',
      DEFAULT_PLAN_FILE,
    ),
  },
  options: { json: common.json('print the report as JSON'), config: common.config() },
  examples: ['orch plan check tasks.yaml', 'orch plan check tasks.yaml --json --config .claude-agents.yaml'],
  async handler({ args, opts }, { cwd }): Promise<CommandResult> {
    const { checkPlan, findPlanFile, isOrchError, loadConfigSource, loadPlan } =
      await import('@orch/core/plan-check');
    const { nearestCheckoutRoot } = await import('@orch/store/repo-root');
    const given = args.plan;
    // Like `orch run`: a relative plan path not found here is looked for at the repository root.
    const file = findPlanFile(given, cwd, nearestCheckoutRoot(cwd));
    const planPath = isAbsolute(given) ? given : relative(cwd, file) || given;
    // The config comes first: the plan's paths are checked against its worktree folder.
    const repoRoot = nearestCheckoutRoot(dirname(resolve(cwd, planPath)));
    const { config, warnings } = await loadConfigSource(repoRoot, configPath(cwd, opts.config));
    let loaded: Awaited<ReturnType<typeof loadPlan>>;
    try {
      loaded = await loadPlan(planPath, {
        allowUnknownDependencies: true,
        worktreeDir: config.orchestration.worktree_dir,
        cwd,
      });
    } catch (e) {
      // With --json a schema failure is still one report, so callers parse one shape.
      if (opts.json && isOrchError(e, 'ERR_ORCH_PLAN_INVALID')) {
        return {
          exitCode: ExitCode.Failed,
          json: {
            ok: false,
            exitCode: ExitCode.Failed,
            schema: { valid: false, total_tasks: 0, issues: e.details?.issues ?? [] },
            dag: null,
            conflicts: null,
            risk: null,
            contracts: null,
            error: e.toJSON(),
          },
        };
      }
      throw e;
    }
    const r = await checkPlan(loaded.plan, { repoRoot, config, doc: loaded.doc });
    if (opts.json) return { exitCode: r.exitCode, json: { ...r, config_warnings: warnings } };
    // The text report's formatter only for the text report.
    const { formatPlanCheck } = await import('../analyze/format.js');
    return {
      exitCode: r.exitCode,
      notes: warnings.map((w) => `warning: ${w}`),
      lines: formatPlanCheck(planPath, r),
    };
  },
});

/** `orch plan check`: every analyzer in one report, with the exit code the CLI uses. */
import type { Plan } from '../plan/schema.js';
import type { Config } from '../config/schema.js';
import { ExitCode } from '../errors.js';
import { analyzeDag, type DagReport } from './dag.js';
import { detectConflicts, type ConflictReport } from './conflicts.js';
import { scoreRisk, type RiskReport } from './risk.js';
import { checkContracts, type ContractsReport } from '../contracts/check.js';
import type { SourceDoc, SourceIssue } from '../plan/source.js';

export interface SchemaReport {
  valid: boolean;
  total_tasks: number;
  issues: SourceIssue[];
}

export interface PlanCheckReport {
  ok: boolean;
  /** 0 ok, 1 a check failed, 3 valid but needs a human's approval. */
  exitCode: 0 | 1 | 3;
  schema: SchemaReport;
  dag: DagReport;
  conflicts: ConflictReport;
  risk: RiskReport;
  contracts: ContractsReport;
}

export async function checkPlan(
  plan: Plan,
  opts: { repoRoot: string; config?: Config; doc?: SourceDoc },
): Promise<PlanCheckReport> {
  const dag = analyzeDag(plan, opts.doc);
  const conflicts = detectConflicts(plan);
  const risk = scoreRisk(plan, opts.config);
  const contracts = await checkContracts(plan, opts.repoRoot);
  const failed = !dag.valid || conflicts.count > 0 || !contracts.ok;
  const exitCode = failed ? ExitCode.Failed : risk.auto_approve ? ExitCode.Ok : ExitCode.NeedsApproval;
  return {
    ok: exitCode === ExitCode.Ok,
    exitCode,
    schema: { valid: true, total_tasks: plan.tasks.length, issues: [] },
    dag,
    conflicts,
    risk,
    contracts,
  };
}

/**
 * The verification report of one task attempt: what orch checked between the task's base commit
 * and its head, and why it failed. Written as JSON next to the full command logs; the supervisor,
 * `orch verify` and the retry prompt all read this one shape.
 */
import { z } from 'zod';
import { VerificationType } from '../plan/schema.js';
import { FailureCategory } from '../run/events.js';

/** The failure categories a verification or its merge can produce (a subset of the run's). */
export const VerifyFailureCategory = FailureCategory.extract([
  'boundary_violation',
  'test_failed',
  'contract_mismatch',
  'env_changed',
  'timeout',
  'merge_conflict',
  'integration_failed',
]);
export type VerifyFailureCategory = z.infer<typeof VerifyFailureCategory>;

/** A changed path and the rule that caught it. */
export const PathViolation = z.object({ path: z.string(), rule: z.string() });
export type PathViolation = z.infer<typeof PathViolation>;

export const BoundaryCheck = z.object({
  ok: z.boolean(),
  /** Every path changed from the base commit to the head, both sides of renames, deletions too. */
  changed: z.array(z.string()),
  /** Outside the task's files_write / files_append. */
  unauthorized: z.array(PathViolation),
  /** Matched a forbidden pattern, even when the task lists it. */
  forbidden: z.array(PathViolation),
  /** Symlinks the diff adds or changes that may not stay (see symlinks.ts). */
  symlinks: z.array(PathViolation).default([]),
});
export type BoundaryCheck = z.infer<typeof BoundaryCheck>;

export const VerifyCommandResult = z.object({
  /** The command as the plan wrote it (placeholders unexpanded; the log has the expanded one). */
  command: z.string(),
  type: VerificationType,
  /** `task`: the task's verification list; `contracts`: config.verification.typecheck_command. */
  source: z.enum(['task', 'contracts']),
  required: z.boolean(),
  ok: z.boolean(),
  /** null when the process was killed by a signal. */
  exitCode: z.number().int().nullable(),
  timedOut: z.boolean(),
  durationMs: z.number().nonnegative(),
  /** A `test` command whose runner reported zero tests: counted as a failure. */
  zeroTests: z.boolean(),
  logPath: z.string(),
  /** The last lines of the output. */
  tail: z.string(),
  /** Not run again: it passed on this tree before (why and where; `logPath` is that run's log). */
  skipped: z.string().optional(),
});
export type VerifyCommandResult = z.infer<typeof VerifyCommandResult>;

export const ContractCheck = z.object({ ok: z.boolean(), problems: z.array(z.string()) });
export type ContractCheck = z.infer<typeof ContractCheck>;

export const EnvironmentCheck = z.object({ ok: z.boolean(), expected: z.string(), actual: z.string() });
export type EnvironmentCheck = z.infer<typeof EnvironmentCheck>;

export const VerificationReport = z.object({
  ok: z.boolean(),
  task: z.string(),
  attempt: z.number().int().nonnegative(),
  baseCommit: z.string(),
  /** The one commit verified (the worktree's HEAD after leftovers); exactly this is merged. */
  headCommit: z.string(),
  /** Its tree. */
  verifiedTree: z.string().default(''),
  /** The branch the worktree had checked out (null: detached HEAD). */
  headBranch: z.string().nullable().default(null),
  /** Why orch refused to verify this HEAD at all (it does not descend from the task's base). */
  headProblem: z.string().optional(),
  /** The commit orch made of leftover uncommitted changes, or null when the worktree was clean. */
  committedLeftovers: z.string().nullable(),
  boundaries: BoundaryCheck,
  commands: z.array(VerifyCommandResult),
  contracts: ContractCheck,
  environment: EnvironmentCheck,
  categories: z.array(VerifyFailureCategory),
  summary: z.string(),
});
export type VerificationReport = z.infer<typeof VerificationReport>;

type ReportParts = Pick<VerificationReport, 'boundaries' | 'commands' | 'contracts' | 'environment'>;

/** The failure categories of a report, in a stable order; empty means the task passed. */
export function categorizeReport(parts: ReportParts): VerifyFailureCategory[] {
  const out: VerifyFailureCategory[] = [];
  if (!parts.boundaries.ok) out.push('boundary_violation');
  const failed = parts.commands.filter((c) => c.required && !c.ok);
  // The contract type check counts as a contract problem (contracts.problems), not a test failure.
  if (failed.some((c) => !c.timedOut && c.source === 'task')) out.push('test_failed');
  if (failed.some((c) => c.timedOut)) out.push('timeout');
  if (!parts.contracts.ok) out.push('contract_mismatch');
  if (!parts.environment.ok) out.push('env_changed');
  return out;
}

/** One line that says what passed or, for each category, what failed first. */
export function summarizeReport(parts: ReportParts, categories: readonly VerifyFailureCategory[]): string {
  const { boundaries: b, commands, contracts, environment } = parts;
  if (categories.length === 0) {
    const n = commands.length;
    return `passed: ${b.changed.length} changed path(s) within bounds, ${n} command(s) ok`;
  }
  const reasons: string[] = [];
  for (const c of categories) {
    if (c === 'boundary_violation') {
      const named = (xs: { path: string }[]): string =>
        xs.length <= 5
          ? xs.map((x) => x.path).join(', ')
          : `${xs
              .slice(0, 5)
              .map((x) => x.path)
              .join(', ')} and ${xs.length - 5} more`;
      const parts = [
        ...(b.unauthorized.length > 0 ? [`outside files_write: ${named(b.unauthorized)}`] : []),
        ...(b.forbidden.length > 0 ? [`forbidden: ${named(b.forbidden)}`] : []),
        ...(b.symlinks.length > 0 ? [`symlinks: ${named(b.symlinks)}`] : []),
      ];
      reasons.push(`boundary_violation (${parts.join('; ')})`);
    } else if (c === 'test_failed') {
      const f = commands.filter((x) => x.required && !x.ok && !x.timedOut && x.source === 'task');
      reasons.push(`test_failed (${f.map(describeFailure).join('; ')})`);
    } else if (c === 'timeout') {
      const f = commands.filter((x) => x.required && x.timedOut);
      reasons.push(`timeout (${f.map((x) => x.command).join('; ')})`);
    } else if (c === 'contract_mismatch') {
      reasons.push(`contract_mismatch (${contracts.problems.length} problem(s))`);
    } else if (c === 'env_changed') {
      reasons.push(`env_changed (lockfile hash ${environment.actual}, run has ${environment.expected})`);
    } else {
      reasons.push(c);
    }
  }
  return `failed: ${reasons.join(', ')}`;
}

function describeFailure(c: VerifyCommandResult): string {
  if (c.zeroTests) return `${c.command}: ran zero tests`;
  return `${c.command}: exit ${c.exitCode ?? 'signal'}`;
}

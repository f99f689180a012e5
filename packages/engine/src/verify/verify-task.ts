/**
 * Verifies one task attempt in its worktree: commits leftovers, then checks boundaries over every
 * change since the base commit, runs every verification command, checks contracts and the
 * environment, and writes the JSON report (plus one log per command) to `reportDir`.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  OrchError,
  VerificationReport,
  categorizeReport,
  checkBoundaries,
  checkTaskContracts,
  envHashFromFiles,
  expandPlaceholders,
  forbiddenPatterns,
  isLockfile,
  modifiedTests,
  ranZeroTests,
  summarizeReport,
  type VerifyCommandResult,
  type Config,
  type ContractCheck,
  type EnvironmentCheck,
  type Plan,
  type Task,
  type Verification,
  type BoundaryCheck,
  type PathViolation,
} from '@orch/core';
import { Repo, changedPaths, commitLeftovers } from '@orch/git';
import { runShellCommand, tailLines } from './run-command.js';

export interface VerifyTaskInput {
  repoRoot: string;
  worktree: string;
  task: Task;
  plan: Plan;
  config: Config;
  /** The commit the task's worktree was created from (or the staging tip it last merged in). */
  baseCommit: string;
  /** The run's environment hash. */
  runEnvHash: string;
  /** The task has an approved dependency request: lockfiles may change. */
  depsApproved?: boolean;
  /** Where the JSON report and the full command logs go. */
  reportDir: string;
  attempt: number;
}

export const VERIFY_TAIL_LINES = 40;

/** The report's file name in `reportDir` (one directory per task attempt). */
export const VERIFY_REPORT_FILE = 'report.json';

export async function verifyTask(input: VerifyTaskInput): Promise<VerificationReport> {
  const { worktree, task, plan, config, attempt, reportDir } = input;
  if (!existsSync(worktree)) {
    throw new OrchError(
      'ERR_ORCH_WORKTREE_MISSING',
      `the worktree of task ${task.id} does not exist: ${worktree}`,
      {
        hint: 'It may have been removed; `orch state resume` recreates worktrees of unfinished tasks.',
      },
    );
  }
  await mkdir(reportDir, { recursive: true });
  const repo = await Repo.open(worktree);

  // Nothing may escape the check: uncommitted and untracked changes become a commit first — but
  // only those the task may write. Another process (another worker, without an OS sandbox) may have
  // put files into this worktree: they are refused and named, never committed under this task.
  const strays = await strayLeftovers(repo, worktree, task, config, input.depsApproved ?? false);
  const committedLeftovers = await commitLeftovers(
    worktree,
    `orch: commit changes left uncommitted by task ${task.id} (before verification, attempt ${attempt})`,
    strays.refused.length > 0 ? { paths: strays.allowed } : {},
  );
  // HEAD of the task's worktree, not of the main checkout that `repo` addresses.
  const headCommit = (
    await repo.git(['rev-parse', '--verify', 'HEAD^{commit}'], { cwd: worktree })
  ).stdout.trim();
  const baseCommit = await repo.revParse(`${input.baseCommit}^{commit}`);

  const changes = await changedPaths(repo, baseCommit, headCommit);
  const changed = changes.flatMap((c) => (c.oldPath !== undefined ? [c.oldPath, c.path] : [c.path]));
  const boundaries = withStrays(
    checkBoundaries({
      changed,
      task,
      forbiddenPatterns: forbiddenPatterns(config),
      depsApproved: input.depsApproved ?? false,
    }),
    strays,
  );

  // Read everything from the head commit before any command runs: commands may write files.
  const tracked = (await repo.lsTree(headCommit)).filter((e) => e.type === 'blob').map((e) => e.path);
  const present = new Set(tracked);
  const modifiedFiles = boundaries.changed.filter((p) => present.has(p));
  const lists = { modifiedFiles, modifiedTests: modifiedTests(modifiedFiles, tracked) };

  const contents: Record<string, string | null> = {};
  for (const c of plan.contracts) contents[c.file_path] = await repo.readFileAt(headCommit, c.file_path);
  const contractsBase = checkTaskContracts({ task, plan, changed: boundaries.changed, contents });

  const environment = await checkEnvironment(worktree, tracked.filter(isLockfile), input);

  const defaultTimeout = plan.defaults.verification_timeout ?? config.verification.timeout;
  const commands: VerifyCommandResult[] = [];
  let index = 0;
  for (const v of task.verification) {
    commands.push(await runOne(v, 'task', ++index, { worktree, reportDir, lists, defaultTimeout }));
  }
  const typecheck = config.verification.typecheck_command;
  if (typecheck !== undefined && typecheck.trim() !== '') {
    const v: Verification = { command: typecheck, type: 'typecheck', required: true };
    commands.push(await runOne(v, 'contracts', ++index, { worktree, reportDir, lists, defaultTimeout }));
  }
  const contracts = withTypecheck(contractsBase, commands);

  const parts = { boundaries, commands, contracts, environment };
  const categories = categorizeReport(parts);
  const report: VerificationReport = VerificationReport.parse({
    ok: categories.length === 0,
    task: task.id,
    attempt,
    baseCommit,
    headCommit,
    committedLeftovers,
    ...parts,
    categories,
    summary: summarizeReport(parts, categories),
  });
  await writeFile(join(reportDir, VERIFY_REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** Uncommitted paths of the worktree: those the task may write, and those refused (outside its bounds). */
async function strayLeftovers(
  repo: Repo,
  worktree: string,
  task: Task,
  config: Config,
  depsApproved: boolean,
): Promise<{
  allowed: string[];
  refused: string[];
  unauthorized: PathViolation[];
  forbidden: PathViolation[];
}> {
  const pending = (await repo.statusPorcelain(worktree)).map((entry) => entry.slice(3));
  const check = checkBoundaries({
    changed: pending,
    task,
    forbiddenPatterns: forbiddenPatterns(config),
    depsApproved,
  });
  const note = (v: PathViolation): PathViolation => ({
    path: v.path,
    rule: `${v.rule} (left uncommitted; orch did not commit it)`,
  });
  const unauthorized = check.unauthorized.map(note);
  const forbidden = check.forbidden.map(note);
  const refused = new Set([...unauthorized, ...forbidden].map((v) => v.path));
  return { allowed: pending.filter((p) => !refused.has(p)), refused: [...refused], unauthorized, forbidden };
}

/** The boundary check of the committed changes, with the refused leftovers added as violations. */
function withStrays(
  b: BoundaryCheck,
  strays: { refused: string[]; unauthorized: PathViolation[]; forbidden: PathViolation[] },
): BoundaryCheck {
  if (strays.refused.length === 0) return b;
  const known = new Set([...b.unauthorized, ...b.forbidden].map((v) => v.path));
  return {
    ok: false,
    changed: [...new Set([...b.changed, ...strays.refused])].sort(),
    unauthorized: [...b.unauthorized, ...strays.unauthorized.filter((v) => !known.has(v.path))],
    forbidden: [...b.forbidden, ...strays.forbidden.filter((v) => !known.has(v.path))],
  };
}

async function checkEnvironment(
  worktree: string,
  lockfiles: string[],
  input: Pick<VerifyTaskInput, 'runEnvHash' | 'depsApproved'>,
): Promise<EnvironmentCheck> {
  const { hash: actual } = await envHashFromFiles(worktree, lockfiles);
  return {
    ok: input.depsApproved === true || actual === input.runEnvHash,
    expected: input.runEnvHash,
    actual,
  };
}

function withTypecheck(base: ContractCheck, commands: VerifyCommandResult[]): ContractCheck {
  const problems = [...base.problems];
  for (const c of commands) {
    if (c.source !== 'contracts' || c.ok) continue;
    const why = c.timedOut ? 'timed out' : `exited with ${c.exitCode ?? 'a signal'}`;
    problems.push(`type check \`${c.command}\` ${why} (log: ${c.logPath})`);
  }
  return { ok: problems.length === 0, problems };
}

async function runOne(
  v: Verification,
  source: VerifyCommandResult['source'],
  index: number,
  ctx: {
    worktree: string;
    reportDir: string;
    lists: { modifiedFiles: string[]; modifiedTests: string[] };
    defaultTimeout: number;
  },
): Promise<VerifyCommandResult> {
  const expanded = expandPlaceholders(v.command, ctx.lists);
  const timeoutS = v.timeout ?? ctx.defaultTimeout;
  const logPath = join(ctx.reportDir, `${index}-${v.type}.log`);
  const run = await runShellCommand({
    command: expanded,
    cwd: ctx.worktree,
    timeoutMs: timeoutS * 1000,
    logPath,
    header: `$ ${expanded}\n# type: ${v.type}, required: ${v.required}, timeout: ${timeoutS}s\n\n`,
  });
  const zeroTests = v.type === 'test' && !run.timedOut && ranZeroTests(run.output, run.exitCode);
  return {
    command: v.command,
    type: v.type,
    source,
    required: v.required,
    ok: run.exitCode === 0 && !run.timedOut && !zeroTests,
    exitCode: run.exitCode,
    timedOut: run.timedOut,
    durationMs: run.durationMs,
    zeroTests,
    logPath,
    tail: tailLines(run.output, VERIFY_TAIL_LINES),
  };
}

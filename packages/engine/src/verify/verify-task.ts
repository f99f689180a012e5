/**
 * Verifies one task attempt: commits leftovers, pins ONE commit (the worktree's HEAD, which must
 * descend from the task's base), checks boundaries and symlinks over its net diff from the base
 * (with the `merge` strategy over every commit too), runs every verification command on a checkout
 * of exactly that commit, checks contracts and the environment, and writes the JSON report (plus
 * one log per command) to `reportDir`. The report's `headCommit` and `verifiedTree` are what the
 * merge lands; whatever the worker's branches do afterwards does not count for this attempt.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  OrchError,
  VerificationReport,
  categorizeReport,
  checkBoundaries,
  checkSymlinks,
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
  type PathViolation,
  type Verification,
  type BoundaryCheck,
} from '@orch/core';
import { Repo, archiveRef, casUpdateRef, changedPaths, commitLeftovers, type ChangedPath } from '@orch/git';
import { skippedBecause, type CheckLedger } from '../integrate/ledger.js';
import { runShellCommand, tailLines } from './run-command.js';

export interface VerifyTaskInput {
  repoRoot: string;
  /** The repository, when the caller has it open (what it has learnt about commits is reused). */
  repo?: Repo;
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
  /**
   * The task's own branch: moved (compare-and-swap) to the pinned commit when HEAD is elsewhere
   * (an agent's own branch); a tip that the pinned commit does not contain is archived first.
   */
  taskBranch?: { name: string; archive: string };
  /** When set, the diff starts at the merge-base of the pinned commit and this (staging merged in). */
  stagingRef?: string;
  /** Where the commands run, given the pinned commit (default: the worktree itself). */
  checkout?: (commit: string) => Promise<string>;
  /**
   * The run's passed checks: a command that passed on the pinned tree before (a resumed or
   * repeated verification of an identical commit) is not run again, and a pass is recorded.
   */
  ledger?: CheckLedger;
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
  const repo = input.repo ?? (await Repo.open(worktree));

  // Nothing may escape the check: uncommitted and untracked changes become a commit first — but
  // only those the task may write. Another process (another worker, without an OS sandbox) may have
  // put files into this worktree: they are refused and named, never committed under this task.
  const strays = await strayLeftovers(repo, worktree, task, config, input.depsApproved ?? false);
  const committedLeftovers = await commitLeftovers(
    worktree,
    `orch: commit changes left uncommitted by task ${task.id} (before verification, attempt ${attempt})`,
    strays.refused.length > 0 ? { paths: strays.allowed } : {},
  );
  // The one commit this attempt is about: HEAD of the task's worktree (not of the main checkout
  // that `repo` addresses), read once. Everything below reads this commit, never a branch again.
  const headCommit = (
    await repo.git(['rev-parse', '--verify', 'HEAD^{commit}'], { cwd: worktree })
  ).stdout.trim();
  const verifiedTree = await repo.revParse(`${headCommit}^{tree}`);
  const headBranch = await repo.currentBranch(worktree);
  const taskBase = await repo.revParse(`${input.baseCommit}^{commit}`);
  const pinned = { headCommit, verifiedTree, headBranch, committedLeftovers };
  if (!(await repo.isAncestor(taskBase, headCommit))) {
    const where = headBranch ? `branch ${headBranch}` : 'a detached HEAD';
    const problem =
      `the worktree is on ${where} at ${headCommit.slice(0, 12)}, which does not descend from the ` +
      `task's base ${taskBase.slice(0, 12)}${input.taskBranch ? `; commit your work on ${input.taskBranch.name}` : ''}`;
    return writeReport(reportDir, headProblemReport(task.id, attempt, taskBase, pinned, problem));
  }
  if (input.taskBranch) await moveTaskBranch(repo, input.taskBranch, headCommit);
  const baseCommit =
    (input.stagingRef ? await repo.mergeBase(headCommit, input.stagingRef) : null) ?? taskBase;

  // squash lands the net diff, so only it counts (a later commit can undo an out-of-bounds edit);
  // merge keeps every commit, so every commit is judged, merge commits included.
  const perCommit = config.merge.strategy === 'merge';
  const changes = await changedPaths(repo, baseCommit, headCommit, { perCommit });
  const changed = changes.flatMap((c) => (c.oldPath !== undefined ? [c.oldPath, c.path] : [c.path]));
  const headTree = await repo.lsTree(headCommit);
  const boundaries = withStrays(
    checkBoundaries({
      changed,
      task,
      forbiddenPatterns: forbiddenPatterns(config),
      depsApproved: input.depsApproved ?? false,
      symlinks: await symlinkViolations(repo, changes, headTree, config.verification.allow_symlinks),
    }),
    strays,
  );

  // Read everything from the head commit before any command runs: commands may write files.
  // Symlinks never reach a command line: a placeholder only ever names regular files.
  const tracked = headTree.filter((e) => e.type === 'blob' && e.mode !== SYMLINK_MODE).map((e) => e.path);
  const present = new Set(tracked);
  const modifiedFiles = boundaries.changed.filter((p) => present.has(p));
  const lists = { modifiedFiles, modifiedTests: modifiedTests(modifiedFiles, tracked) };

  const contents: Record<string, string | null> = {};
  for (const c of plan.contracts) contents[c.file_path] = await repo.readFileAt(headCommit, c.file_path);
  const contractsBase = checkTaskContracts({ task, plan, changed: boundaries.changed, contents });

  // The commands run on exactly the pinned commit: a checkout of it, not the worker's worktree,
  // which the worker's own processes may still be changing.
  const dir = input.checkout ? await input.checkout(headCommit) : worktree;
  const environment = await checkEnvironment(dir, tracked.filter(isLockfile), input);

  const defaultTimeout = plan.defaults.verification_timeout ?? config.verification.timeout;
  const commands: VerifyCommandResult[] = [];
  let index = 0;
  const run = {
    worktree: dir,
    reportDir,
    lists,
    defaultTimeout,
    ledger: input.ledger,
    pinned: { headCommit, verifiedTree },
  };
  for (const v of task.verification) commands.push(await runOne(v, 'task', ++index, run));
  const typecheck = config.verification.typecheck_command;
  if (typecheck !== undefined && typecheck.trim() !== '') {
    const v: Verification = { command: typecheck, type: 'typecheck', required: true };
    commands.push(await runOne(v, 'contracts', ++index, run));
  }
  const contracts = withTypecheck(contractsBase, commands);

  const parts = { boundaries, commands, contracts, environment };
  const categories = categorizeReport(parts);
  const report: VerificationReport = VerificationReport.parse({
    ok: categories.length === 0,
    task: task.id,
    attempt,
    baseCommit,
    ...pinned,
    ...parts,
    categories,
    summary: summarizeReport(parts, categories),
  });
  return writeReport(reportDir, report);
}

const SYMLINK_MODE = '120000';

async function writeReport(reportDir: string, report: VerificationReport): Promise<VerificationReport> {
  await writeFile(join(reportDir, VERIFY_REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** A report for a HEAD orch will not verify: nothing else is checked, nothing can be merged. */
function headProblemReport(
  task: string,
  attempt: number,
  baseCommit: string,
  pinned: Pick<VerificationReport, 'headCommit' | 'verifiedTree' | 'headBranch' | 'committedLeftovers'>,
  problem: string,
): VerificationReport {
  return VerificationReport.parse({
    ok: false,
    task,
    attempt,
    baseCommit,
    ...pinned,
    headProblem: problem,
    boundaries: { ok: false, changed: [], unauthorized: [], forbidden: [], symlinks: [] },
    commands: [],
    contracts: { ok: true, problems: [] },
    environment: { ok: true, expected: '', actual: '' },
    categories: ['boundary_violation'],
    summary: `failed: boundary_violation (${problem})`,
  });
}

/**
 * The task branch follows the pinned commit, so retries, resume and the report all see the work
 * that is verified. A tip the commit does not contain (work elsewhere) is kept on an archive ref.
 */
async function moveTaskBranch(
  repo: Repo,
  branch: { name: string; archive: string },
  commit: string,
): Promise<void> {
  const ref = `refs/heads/${branch.name}`;
  const tip = await repo.tryRevParse(ref);
  if (tip === commit) return;
  if (tip !== null && !(await repo.isAncestor(tip, commit)))
    await archiveRef(repo, branch.name, branch.archive);
  await casUpdateRef(repo, ref, commit, tip, `orch: pin the verified commit of ${branch.name}`);
}

/** Symlinks the diff adds or changes, read from their blobs and judged by `checkSymlinks`. */
async function symlinkViolations(
  repo: Repo,
  changes: readonly ChangedPath[],
  headTree: readonly { mode: string; object: string; path: string }[],
  allow: boolean,
): Promise<PathViolation[]> {
  const added = changes.filter((c) => c.mode === SYMLINK_MODE);
  if (added.length === 0) return [];
  const target = async (object: string): Promise<string> =>
    (await repo.git(['cat-file', 'blob', object], { keepFinalNewline: true })).stdout;
  const links = [];
  for (const c of added) links.push({ path: c.path, target: await target(c.object) });
  const headLinks = new Map<string, string>();
  if (allow) {
    for (const e of headTree) if (e.mode === SYMLINK_MODE) headLinks.set(e.path, await target(e.object));
  }
  return checkSymlinks({ links, allow, headLinks });
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
    symlinks: b.symlinks,
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
    ledger: CheckLedger | undefined;
    pinned: { headCommit: string; verifiedTree: string };
  },
): Promise<VerifyCommandResult> {
  const expanded = expandPlaceholders(v.command, ctx.lists);
  const result = { command: v.command, type: v.type, source, required: v.required };
  // The same command on the same tree passed before: its result stands (a failure is run again).
  const tree = ctx.pinned.verifiedTree;
  const pass = ctx.ledger?.passed(tree, expanded);
  if (pass) {
    const skipped = skippedBecause(pass, tree);
    return {
      ...result,
      ok: true,
      exitCode: 0,
      timedOut: false,
      durationMs: 0,
      zeroTests: false,
      logPath: pass.logPath ?? '',
      tail: skipped,
      skipped,
    };
  }
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
  const ok = run.exitCode === 0 && !run.timedOut && !zeroTests;
  if (ok)
    await ctx.ledger?.record({
      command: expanded,
      tree,
      commit: ctx.pinned.headCommit,
      logPath,
      durationMs: run.durationMs,
    });
  return {
    ...result,
    ok,
    exitCode: run.exitCode,
    timedOut: run.timedOut,
    durationMs: run.durationMs,
    zeroTests,
    logPath,
    tail: tailLines(run.output, VERIFY_TAIL_LINES),
  };
}

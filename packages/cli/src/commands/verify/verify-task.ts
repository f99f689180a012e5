/**
 * `orch verify <task>`: gathers what verifyTask needs, from a run (its plan copy, the task's
 * worktree and base commit, the run's environment hash) or from flags, runs it and prints the report.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  ExitCode,
  OrchError,
  envHashFromFiles,
  isLockfile,
  loadConfig,
  loadPlan,
  type Plan,
  type Task,
} from '@orch/core';
import { VERIFY_REPORT_FILE, verifyTask, type VerifyTaskInput } from '@orch/engine';
import { Repo, SAFE_GIT_CONFIG } from '@orch/git';
import { loadRunState, orchPaths, resolveRepoRoot, resolveRun, runPaths } from '@orch/store';
import type { VerifyOptions } from './verify.js';
import type { CommandIO, CommandResult } from '../../define.js';
import { whereOf } from '../common/run.js';
import { renderReport } from './render.js';

export async function runVerifyCommand(
  taskId: string,
  opts: VerifyOptions,
  io: CommandIO,
): Promise<CommandResult> {
  const withoutRun = opts.worktree !== undefined || opts.base !== undefined || opts.plan !== undefined;
  const input = withoutRun ? await standalone(taskId, opts, io) : await fromRun(taskId, opts, io);
  const report = await verifyTask(input);
  const reportPath = join(input.reportDir, VERIFY_REPORT_FILE);
  const exitCode = report.ok ? ExitCode.Ok : ExitCode.Failed;
  if (opts.json) return { exitCode, json: { ...report, reportPath } };
  return { exitCode, lines: [renderReport(report, reportPath)] };
}

function findTask(plan: Plan, id: string, where: string): Task {
  const task = plan.tasks.find((t) => t.id === id);
  if (!task) {
    const known = plan.tasks.map((t) => t.id).join(', ');
    throw new OrchError('ERR_ORCH_UNKNOWN_TASK', `task ${JSON.stringify(id)} is not in ${where}`, {
      hint: `Tasks in this plan: ${known}.`,
    });
  }
  return task;
}

async function fromRun(taskId: string, opts: VerifyOptions, io: CommandIO): Promise<VerifyTaskInput> {
  const { repoRoot, run } = await resolveRun({
    ...whereOf(io),
    ...(opts.run !== undefined ? { run: opts.run } : {}),
  });
  const paths = runPaths(repoRoot, run);
  const state = await loadRunState(paths.dir);
  if (!state) {
    throw new OrchError('ERR_ORCH_RUN_NOT_FOUND', `run ${run} has no recorded state yet`, {
      hint: 'Wait until the run has started its tasks, or use --worktree/--base/--plan.',
    });
  }
  const { plan } = await loadPlan(paths.plan);
  const task = findTask(plan, taskId, `run ${run}`);
  const t = state.tasks[task.id];
  if (!t?.worktree || !t.baseCommit) {
    throw new OrchError('ERR_ORCH_TASK_NOT_STARTED', `task ${task.id} of run ${run} has no worktree yet`, {
      hint: `It is ${t?.status ?? 'unknown'}; a task is verified after its worker started (see \`orch state status\`).`,
    });
  }
  return {
    repoRoot,
    worktree: t.worktree,
    task,
    plan,
    config: await loadConfig(repoRoot),
    baseCommit: t.baseCommit,
    runEnvHash: opts.envHash ?? state.envHash,
    depsApproved: opts.depsApproved,
    // Its own directory: a manual check never overwrites the supervisor's report of an attempt.
    reportDir: join(paths.verify, `${task.id}-manual`),
    attempt: t.attempt,
  };
}

async function standalone(taskId: string, opts: VerifyOptions, io: CommandIO): Promise<VerifyTaskInput> {
  if (opts.worktree === undefined || opts.base === undefined || opts.plan === undefined) {
    throw new OrchError(
      'ERR_ORCH_USAGE',
      'verifying without a run needs --worktree, --base and --plan together',
      {
        hint: 'Example: orch verify api-auth --worktree .worktrees/api-auth --base main --plan tasks.yaml',
        exitCode: ExitCode.Usage,
      },
    );
  }
  const worktree = resolve(io.cwd, opts.worktree);
  const repoRoot = await resolveRepoRoot({ cwd: worktree, env: io.env });
  const { plan, path } = await loadPlan(opts.plan, { cwd: io.cwd });
  const task = findTask(plan, taskId, path);
  const repo = await Repo.open(worktree);
  // The report goes under .orchestrator/, which must never show up as a change in the user's checkout.
  await repo.ensureExcluded(['/.orchestrator/']);
  const baseCommit = await repo.revParse(`${opts.base}^{commit}`);
  return {
    repoRoot,
    worktree,
    task,
    plan,
    config: await loadConfig(repoRoot),
    baseCommit,
    runEnvHash: opts.envHash ?? (await envHashAt(repo, baseCommit)),
    depsApproved: opts.depsApproved,
    reportDir: join(orchPaths(repoRoot).orchDir, 'verify', task.id),
    attempt: 0,
  };
}

const exec = promisify(execFile);

/** The environment hash of a commit's tracked lockfiles (written out to a scratch directory). */
async function envHashAt(repo: Repo, commit: string): Promise<string> {
  const lockfiles = (await repo.lsTree(commit)).filter((e) => e.type === 'blob' && isLockfile(e.path));
  const dir = await mkdtemp(join(tmpdir(), 'orch-env-'));
  try {
    for (const e of lockfiles) {
      const target = join(dir, e.path);
      await mkdir(dirname(target), { recursive: true });
      // Bytes, not text: some lockfiles (bun.lockb) are binary.
      const { stdout } = await exec('git', [...SAFE_GIT_CONFIG, 'cat-file', 'blob', e.object], {
        cwd: repo.root,
        encoding: 'buffer',
        maxBuffer: 512 * 1024 * 1024,
      });
      await writeFile(target, stdout);
    }
    return (
      await envHashFromFiles(
        dir,
        lockfiles.map((e) => e.path),
      )
    ).hash;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

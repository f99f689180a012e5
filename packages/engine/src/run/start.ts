/**
 * Starting a run: check the plan, preflight the machine, create the staging branch (with the
 * contracts committed onto it when the base lacks them) and the journal. The plan itself is never
 * committed: the run keeps its own copy (`.orchestrator/runs/<run>/plan.yaml`), so the user's
 * `tasks.yaml`, tracked or not, edited or not, never stands in the way of promotion. The user's
 * checkout is never touched: no checkout, no stash, no reset.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, statfs } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import {
  ExitCode,
  OrchError,
  checkPlan,
  findPlanFile,
  loadConfigSource,
  loadPlan,
  traced,
  type Config,
  type Plan,
} from '@orch/core';
import { getAdapter } from '@orch/agents';
import { Repo, assertGitVersion, commitFilesOnto, listWorktrees } from '@orch/git';
import {
  appendEvent,
  isRunLive,
  loadRunState,
  newRunId,
  runPaths,
  setCurrentRun,
  writeFileAtomic,
} from '@orch/store';
import { assertTmux } from '@orch/tmux';
import { envHashAt } from '../integrate/env.js';
import { checkoutIntegration } from '../integrate/worktree.js';
import type { RunLog } from '../ports/run-log.js';
import { decideSandbox, type SandboxDecision } from '../worker/sandbox.js';
import { stagingBranch, worktreePath } from './context.js';

export interface StartOptions {
  cwd: string;
  planPath: string;
  maxWorkers?: number;
  agent?: string;
  model?: string;
  base?: string;
  detach?: boolean;
  /** Leave the result on staging instead of promoting it. */
  noPromote?: boolean;
  /**
   * A distributed run: opens the run's journal elsewhere (the store) once the run's id and staging
   * exist; `run.started` is appended there instead of to `events.jsonl`.
   */
  openJournal?: (run: string, start: RunStartInfo) => Promise<RunLog>;
  /** A distributed run's git remote, recorded in `run.started` with the configuration. */
  remote?: string;
  /** Answers the approval question: true = approved, false = refused, undefined = ask. */
  approve?: (report: Awaited<ReturnType<typeof checkPlan>>) => Promise<boolean>;
}

/** What a distributed run publishes at its start (the store's copy of the plan, the remote's branches). */
export interface RunStartInfo {
  base: string;
  baseCommit: string;
  stagingCommit: string;
  /** The frozen plan, as written to the run folder. */
  planText: string;
}

export interface PreparedRun {
  repoRoot: string;
  run: string;
  plan: Plan;
  config: Config;
  base: string;
  baseCommit: string;
  stagingCommit: string;
  committedFiles: string[];
  /** The checkout that has the base branch, when it has uncommitted changes to tracked files. */
  dirtyCheckout?: { path: string; files: string[] };
  /** Problems that do not stop the run (unknown config keys), for the user to see. */
  warnings: string[];
  /** Whether workers run in the OS sandbox; `notice` when `auto` found none. */
  sandbox: SandboxDecision;
}

const MIN_FREE_BYTES = 512 * 1024 * 1024;

export async function prepareRun(o: StartOptions): Promise<PreparedRun> {
  const repo = await Repo.open(o.cwd);
  const { config, warnings } = await loadConfigSource(repo.root);
  const planFile = findPlanFile(o.planPath, o.cwd, repo.root);
  const { plan, doc } = await loadPlan(planFile, { worktreeDir: config.orchestration.worktree_dir });
  const report = await checkPlan(plan, { repoRoot: repo.root, config, doc });
  if (report.exitCode === ExitCode.Failed) {
    throw new OrchError(
      'ERR_ORCH_PLAN_REJECTED',
      `The plan ${o.planPath} does not pass \`orch plan check\`.`,
      {
        hint: `Run \`orch plan check ${o.planPath}\` to see every problem.`,
        details: { report },
      },
    );
  }
  if (report.exitCode === ExitCode.NeedsApproval) {
    const approved = o.approve ? await o.approve(report) : false;
    if (!approved) {
      throw new OrchError(
        'ERR_ORCH_NEEDS_APPROVAL',
        `The plan needs approval (risk ${report.risk.score}, ${report.risk.status}).`,
        {
          hint: 'Review it with `orch plan check`, then run again with --yes.',
          exitCode: ExitCode.NeedsApproval,
        },
      );
    }
  }
  const agentOf = (t: Plan['tasks'][number]): string =>
    t.agent ?? o.agent ?? plan.defaults.agent ?? config.agents.default;
  // `orch plan check` sees only the plan's own agents; --agent or the config can make a task shell too.
  const scriptless = plan.tasks.filter((t) => agentOf(t) === 'shell' && (t.run ?? '').trim() === '');
  if (scriptless.length > 0) {
    throw new OrchError(
      'ERR_ORCH_PLAN_REJECTED',
      `Task${scriptless.length === 1 ? '' : 's'} ${scriptless.map((t) => t.id).join(', ')} would run with the shell agent but ha${scriptless.length === 1 ? 's' : 've'} no run script.`,
      { hint: 'Add `run: <commands>` to each, or choose another agent with --agent.' },
    );
  }
  const agents = new Set(plan.tasks.map(agentOf));
  await preflight(repo, agents);
  const sandbox = await decideSandbox(config);

  const base = o.base ?? plan.base ?? (await repo.currentBranch());
  if (!o.base && !plan.base && !(await repo.tryRevParse('HEAD'))) {
    throw new OrchError(
      'ERR_ORCH_NO_COMMITS',
      `The repository has no commits yet${base ? ` (${base} is unborn)` : ''}, so there is nothing to build on.`,
      {
        hint: 'Commit once first (for example `git add -A && git commit -m "first commit"`), then run again.',
      },
    );
  }
  if (!base) {
    throw new OrchError(
      'ERR_ORCH_NO_BASE',
      'The repository is on a detached HEAD, so orch cannot tell which branch to build on.',
      {
        hint: 'Pass the base branch with --base <branch> (or set `base:` in the plan).',
        exitCode: ExitCode.Usage,
      },
    );
  }
  const baseCommit = await repo.tryRevParse(`refs/heads/${base}`);
  if (!baseCommit) {
    throw new OrchError('ERR_ORCH_NO_BASE', `The base branch ${base} does not exist.`, {
      hint: 'Pass an existing branch with --base <branch>.',
      exitCode: ExitCode.Usage,
    });
  }
  await assertWorktreesFree(repo, config, plan);
  await repo.ensureExcluded([
    '/.orchestrator/',
    `/${config.orchestration.worktree_dir.replace(/^\/+|\/+$/g, '')}/`,
  ]);

  const run = newRunId();
  const paths = runPaths(repo.root, run);
  await mkdir(paths.dir, { recursive: true });
  const planText = await readFile(planFile, 'utf8');
  await writeFileAtomic(paths.plan, planText);

  // The contracts must be in every worktree: commit them onto staging if the base lacks them.
  const branch = stagingBranch(run);
  await repo.createBranch(branch, baseCommit);
  const files = await contractsForStaging(repo, baseCommit, planFile, plan);
  let stagingCommit = baseCommit;
  if (files.length > 0) {
    ({ commit: stagingCommit } = await commitFilesOnto(repo, {
      branch,
      files,
      message: `orch: add the contracts for run ${run}`,
      expectedOld: baseCommit,
    }));
  }
  // The run's environment hash is read from orch's own checkout of staging, the same way task
  // worktrees are read at verification, so the two always compare like with like.
  const integration = await checkoutIntegration(repo, config, run, stagingCommit);
  const env = await envHashAt(repo, integration);

  const maxWorkers = o.maxWorkers ?? config.orchestration.max_parallel_workers;
  const started = {
    type: 'run.started' as const,
    run,
    request: plan.request,
    repoRoot: repo.root,
    planPath: relative(repo.root, planFile).split(sep).join('/'),
    base,
    baseCommit,
    staging: branch,
    stagingCommit,
    envHash: env,
    maxWorkers,
    detached: o.detach === true,
    noPromote: o.noPromote === true,
    tasks: plan.tasks.map((t) => {
      const model = t.model ?? o.model ?? plan.defaults.model ?? config.agents.model;
      return {
        id: t.id,
        dependsOn: t.depends_on,
        agent: agentOf(t),
        ...(model ? { model } : {}),
        description: t.description,
      };
    }),
  };
  if (o.openJournal) {
    const log = await o.openJournal(run, { base, baseCommit, stagingCommit, planText });
    // A supervisor taking the run over elsewhere has no checkout of the user's to read it from.
    await log.append({
      ...started,
      config: config as Record<string, unknown>,
      ...(o.remote ? { remote: o.remote } : {}),
    });
  } else {
    await appendEvent(paths.dir, started);
  }
  await setCurrentRun(repo.root, run);
  const dirtyCheckout = await checkoutChanges(repo, base);
  return {
    repoRoot: repo.root,
    run,
    plan,
    config,
    base,
    baseCommit,
    stagingCommit,
    committedFiles: files.map((f) => f.path),
    ...(dirtyCheckout ? { dirtyCheckout } : {}),
    warnings,
    sandbox,
  };
}

/** A task's worktree path must be free: an older run may have kept one there for inspection. */
async function assertWorktreesFree(repo: Repo, config: Config, plan: Plan): Promise<void> {
  const taken = new Map((await listWorktrees(repo)).map((w) => [w.path, w.branch ?? 'a detached HEAD']));
  for (const t of plan.tasks) {
    const path = worktreePath(repo.root, config, t.id);
    const owner = taken.get(path) ?? (existsSync(path) ? 'a folder that is not a worktree' : undefined);
    if (!owner) continue;
    const run = /^(?:refs\/heads\/)?orch\/([^/]+)\//.exec(owner)?.[1];
    const state = run
      ? await loadRunState(runPaths(repo.root, run).dir).catch(traced('start.other-run-state'))
      : undefined;
    if (run && isRunLive(state)) {
      // Never suggest abort here: that would stop a run someone is watching.
      throw new OrchError(
        'ERR_ORCH_RUN_LIVE',
        `Run ${run} is live (supervisor pid ${state?.supervisorPid}, phase ${state?.phase}) and its task ${t.id} holds ${path}.`,
        {
          hint: `Follow it with \`orch dashboard --run ${run}\` or wait for it with \`orch wait --run ${run}\`; start this plan after it ends.`,
          details: { run, task: t.id, path },
        },
      );
    }
    throw new OrchError(
      'ERR_ORCH_WORKTREE_TAKEN',
      `The worktree path of task ${t.id} (${path}) is taken by ${owner}.`,
      {
        hint: run
          ? `An earlier run kept it for inspection. Finish that run with \`orch state resume --run ${run}\`, or remove it with \`orch state clean --run ${run}\` (a finished run) or \`orch state abort --run ${run} --yes\` (an unfinished one).`
          : 'Move it away, or set orchestration.worktree_dir in .claude-agents.yaml.',
      },
    );
  }
}

async function preflight(repo: Repo, agents: Set<string>): Promise<void> {
  await assertGitVersion();
  await assertTmux();
  for (const name of agents) {
    const adapter = getAdapter(name);
    if (adapter.binary && !onPath(adapter.binary)) {
      throw new OrchError(
        'ERR_ORCH_AGENT_MISSING',
        `The plan uses the ${name} agent, but \`${adapter.binary}\` is not on PATH.`,
        {
          hint: `Install it (see \`orch doctor\`), or choose another agent with --agent.`,
        },
      );
    }
  }
  const fs = await statfs(repo.root);
  const free = Number(fs.bavail) * Number(fs.bsize);
  if (free < MIN_FREE_BYTES) {
    throw new OrchError(
      'ERR_ORCH_DISK_FULL',
      `Only ${Math.round(free / 1048576)} MiB are free in ${repo.root}.`,
      {
        hint: 'Every task gets a worktree; free some disk space and run again.',
      },
    );
  }
}

export function onPath(bin: string): boolean {
  if (bin.includes('/')) return existsSync(bin);
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, bin)));
}

/** Said at the start: promotion stops at a checkout with uncommitted changes to tracked files. */
async function checkoutChanges(repo: Repo, base: string): Promise<PreparedRun['dirtyCheckout']> {
  const where = (await repo.checkedOutBranches()).get(base);
  if (!where) return undefined;
  const files = (await repo.statusPorcelain(where)).filter((l) => !l.startsWith('??')).map((l) => l.slice(3));
  return files.length > 0 ? { path: where, files } : undefined;
}

/** The plan's contracts (and every file under `contracts/`) whose content the base lacks. */
async function contractsForStaging(
  repo: Repo,
  baseCommit: string,
  planFile: string,
  plan: Plan,
): Promise<{ path: string; content: string }[]> {
  const out: { path: string; content: string }[] = [];
  const planRel = relative(repo.root, planFile).split(sep).join('/');
  const add = async (rel: string, content: string): Promise<void> => {
    if (rel.startsWith('..') || rel.startsWith('/') || rel === planRel) return;
    if ((await repo.readFileAt(baseCommit, rel)) === content) return;
    if (!out.some((f) => f.path === rel)) out.push({ path: rel, content });
  };
  const contractFiles = new Set(plan.contracts.map((c) => c.file_path));
  const dir = join(repo.root, 'contracts');
  if (existsSync(dir)) {
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const full = join(entry.parentPath, entry.name);
      contractFiles.add(relative(repo.root, full).split(sep).join('/'));
    }
  }
  for (const rel of contractFiles) {
    const full = join(repo.root, rel);
    if (existsSync(full)) await add(rel, await readFile(full, 'utf8'));
  }
  return out;
}

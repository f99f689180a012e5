/**
 * Dependency requests: a worker that needs a package asks for it (`orch task block --needs`) instead
 * of installing it. A person approves or denies; on approval orch installs it with the project's
 * package manager on staging (the only place lockfiles change), records the new environment hash,
 * tells every worker, and the blocked workers start again from the new staging tip.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import {
  MAILBOX_ALL,
  OrchError,
  isOrchError,
  loadConfig,
  traced,
  type Config,
  type OutboxBody,
  type RunState,
} from '@orch/core';
import { Repo, commitLeftovers, removeWorktree, withRepoLock } from '@orch/git';
import { Mailbox, runPaths } from '@orch/store';
import { stagingTampered } from './merge/guard.js';
import { gitRepository } from './ports/git.js';
import type { Repository } from './ports/repository.js';
import type { RunLog } from './ports/run-log.js';
import { RunJournal } from './run/journal.js';
import { integrationWorktreePath, stagingBranch } from './run/context.js';
import { envHashAt } from './integrate/env.js';
import type { Verdict } from './supervisor/intake.js';
import { bootstrapWorktree } from './worker/bootstrap.js';

export interface DepRequest {
  task: string;
  spec: string;
  reason?: string;
}

export interface DepConflict {
  name: string;
  requests: DepRequest[];
}

export function pendingRequests(state: RunState): DepRequest[] {
  return state.order
    .map((id) => state.tasks[id]!)
    .filter((t) => t.status === 'blocked' && t.blockedNeeds)
    .flatMap((t) =>
      t
        .blockedNeeds!.split(/[\s,]+/)
        .filter(Boolean)
        .map((spec) => ({ task: t.id, spec, ...(t.lastMessage ? { reason: t.lastMessage } : {}) })),
    );
}

/** The package name of a spec: `lodash@4`, `@scope/pkg@^1`, `requests==2.31`, `serde@1`, `rand>=0.8`. */
export function packageName(spec: string): string {
  const s = spec.trim();
  if (s.startsWith('@')) {
    const at = s.indexOf('@', 1);
    return at < 0 ? s : s.slice(0, at);
  }
  return s.split(/[@=<>~!^ ]/)[0] ?? s;
}

/** Requests for one package with different specs, from different tasks: reported before installing. */
export function findConflicts(reqs: DepRequest[]): DepConflict[] {
  const byName = new Map<string, DepRequest[]>();
  for (const r of reqs) byName.set(packageName(r.spec), [...(byName.get(packageName(r.spec)) ?? []), r]);
  return [...byName.entries()]
    .filter(([, rs]) => new Set(rs.map((r) => r.spec.trim())).size > 1)
    .map(([name, requests]) => ({ name, requests }));
}

const SAFE_SPEC = /^[A-Za-z0-9@/._~^<>=!*+:-]{1,200}$/;

/** The install command for the project in `dir` (argument arrays; specs are validated first). */
export function installCommand(dir: string, specs: string[]): string[] {
  for (const s of specs) {
    if (!SAFE_SPEC.test(s) || s.startsWith('-')) {
      throw new OrchError('ERR_ORCH_DEPS_BAD_SPEC', `"${s}" is not a package spec orch will install.`, {
        hint: 'Use a plain name with an optional version, e.g. lodash@4 or requests==2.31.',
      });
    }
  }
  const has = (f: string): boolean => existsSync(join(dir, f));
  if (has('package.json')) {
    if (has('pnpm-lock.yaml')) return ['pnpm', 'add', ...specs];
    if (has('yarn.lock')) return ['yarn', 'add', ...specs];
    if (has('bun.lockb') || has('bun.lock')) return ['bun', 'add', ...specs];
    return ['npm', 'install', '--save', '--no-audit', '--no-fund', ...specs];
  }
  if (has('uv.lock')) return ['uv', 'add', ...specs];
  if (has('poetry.lock')) return ['poetry', 'add', ...specs];
  if (has('Cargo.toml')) return ['cargo', 'add', ...specs];
  if (has('go.mod')) return ['go', 'get', ...specs];
  throw new OrchError('ERR_ORCH_DEPS_NO_MANAGER', "orch cannot tell this project's package manager.", {
    hint: 'Install the package on the base branch yourself, then `orch deps deny` the request with that note.',
  });
}

/**
 * What carrying out a decision needs: the run's log and repository (a local run's journal and
 * repository, or a distributed supervisor's Redis log and the repository that pushes staging to the
 * remote), where mail goes, and the checkout the install worktree is made in.
 */
export interface DepsPorts {
  repoRoot: string;
  run: string;
  journal: Pick<RunLog, 'state' | 'refresh' | 'append'>;
  repository: Repository;
  mailbox: Pick<Mailbox, 'send'>;
  /** The run's config (default: the checkout's). */
  config?: Config;
  /** The user-channel item decided: journaled on `task.unblocked`, so a repeat is recognised. */
  item?: string;
}

/** The staging tip the journal last recorded, once the real ref is seen there (else tampering). */
async function journaledTip(p: DepsPorts): Promise<string> {
  for (let i = 0; ; i++) {
    const expected = (await load(p)).stagingCommit;
    const actual = await p.repository.tryRevParse(`refs/heads/${stagingBranch(p.run)}`);
    if (actual === expected) return expected;
    // The supervisor journals right after it moves the ref: give its line a moment.
    if (i >= 20) throw stagingTampered(p.run, expected, actual);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function load(p: DepsPorts): Promise<RunState> {
  await p.journal.refresh();
  const state = p.journal.state;
  if (!state) throw new OrchError('ERR_ORCH_RUN_NOT_FOUND', `Run ${p.run} has no journal.`);
  return state;
}

/** A local run's ports: its `events.jsonl`, the repository and the run folder's mailbox. */
async function withLocalPorts<T>(
  repoRoot: string,
  run: string,
  fn: (p: DepsPorts) => Promise<T>,
): Promise<T> {
  const paths = runPaths(repoRoot, run);
  const journal = new RunJournal(paths.dir, paths.events);
  try {
    await journal.refresh();
    const repository = gitRepository(await Repo.open(repoRoot));
    const mailbox = new Mailbox(paths.dir, { tasks: journal.state?.order ?? [] });
    return await fn({ repoRoot, run, journal, repository, mailbox });
  } finally {
    journal.close();
  }
}

export interface ApproveResult {
  installed: DepRequest[];
  command: string[];
  commit: string;
  envHash: string;
}

export async function approveDeps(
  repoRoot: string,
  run: string,
  tasks: string[] | 'all',
): Promise<ApproveResult> {
  return withLocalPorts(repoRoot, run, (p) => approveDepsOn(p, tasks));
}

/** Installs the chosen requests on staging (a worktree of the journaled tip), journals, tells workers. */
export async function approveDepsOn(p: DepsPorts, tasks: string[] | 'all'): Promise<ApproveResult> {
  const { run } = p;
  const state = await load(p);
  const all = pendingRequests(state);
  const chosen = tasks === 'all' ? all : all.filter((r) => tasks.includes(r.task));
  if (tasks !== 'all') {
    for (const t of tasks) {
      if (!all.some((r) => r.task === t)) {
        throw new OrchError('ERR_ORCH_DEPS_NONE', `Task ${t} has no pending dependency request.`, {
          hint: 'See the pending requests with `orch deps list`.',
        });
      }
    }
  }
  if (chosen.length === 0)
    throw new OrchError('ERR_ORCH_DEPS_NONE', 'There are no pending dependency requests.');
  const conflicts = findConflicts(chosen);
  if (conflicts.length > 0) {
    throw new OrchError(
      'ERR_ORCH_DEPS_CONFLICT',
      `Conflicting requests: ${conflicts.map((c) => `${c.name} (${c.requests.map((r) => `${r.task}: ${r.spec}`).join(', ')})`).join('; ')}. Nothing was installed.`,
      {
        hint: 'Approve one task at a time, or deny one of the requests with `orch deps deny <task> --reason`.',
      },
    );
  }
  const repo = await Repo.open(p.repoRoot);
  const config = p.config ?? (await loadConfig(p.repoRoot));
  const ref = `refs/heads/${stagingBranch(run)}`;
  const tip = await journaledTip(p);
  const work = `${integrationWorktreePath(p.repoRoot, config, run)}-deps`;
  // A killed earlier approval may have left its worktree behind; it held nothing merged anywhere.
  await removeWorktree(repo, work, { force: true }).catch(traced('deps.removeWorktree'));
  await withRepoLock(repo, () => repo.git(['worktree', 'add', '--detach', '--force', work, tip]));
  try {
    await bootstrapWorktree(p.repoRoot, work, config, process.env as Record<string, string>);
    const specs = [...new Set(chosen.map((r) => r.spec.trim()))];
    const command = installCommand(work, specs);
    const r = await execa(command[0]!, command.slice(1), {
      cwd: work,
      reject: false,
      all: true,
      timeout: config.verification.timeout * 1000,
    });
    if (r.exitCode !== 0) {
      throw new OrchError('ERR_ORCH_DEPS_INSTALL', `\`${command.join(' ')}\` failed (exit ${r.exitCode}).`, {
        hint: String(r.all ?? '')
          .trim()
          .split('\n')
          .slice(-15)
          .join('\n'),
      });
    }
    const commit = await commitLeftovers(
      work,
      `orch: add ${specs.join(', ')} (approved for ${[...new Set(chosen.map((c) => c.task))].join(', ')})`,
    );
    if (!commit) throw new OrchError('ERR_ORCH_DEPS_INSTALL', `\`${command.join(' ')}\` changed nothing.`);
    // Onto exactly the journaled tip: a staging ref moved by anyone but orch is never built on. The
    // repository's compare-and-swap also publishes staging where the run shares it (a remote).
    let onto = tip;
    let newTip: string;
    for (let i = 1; ; i++) {
      const made = await p.repository.commitMerge({
        onto,
        source: commit,
        message: `orch: dependencies ${specs.join(', ')}`,
        squash: false,
      });
      if (made.status === 'conflict') {
        throw new OrchError(
          'ERR_ORCH_DEPS_CONFLICT',
          `The dependency change conflicts with staging in ${made.files.join(', ')}.`,
          {
            hint: 'Approve the requests one task at a time, or add the package on the base branch yourself and deny the request.',
          },
        );
      }
      if (made.status === 'already') {
        newTip = onto;
        break;
      }
      try {
        await p.repository.updateRef(ref, made.commit, onto, `orch: dependencies ${specs.join(', ')}`);
        newTip = made.commit;
        break;
      } catch (e) {
        if (!isOrchError(e, 'ERR_ORCH_REF_MOVED') || i >= 5) throw e;
        onto = await journaledTip(p); // the supervisor merged meanwhile
      }
    }
    await p.journal.append({
      type: 'staging.moved',
      from: onto,
      to: newTip,
      reason: `dependencies approved: ${specs.join(', ')}`,
    });
    // The dependency commit adds only what was approved on top of a verified tip: new worktrees
    // may start from it. (On a tip whose incremental check still runs, that check decides.)
    if (newTip !== onto && (await load(p)).stagingVerified === onto)
      await p.journal.append({ type: 'staging.verified', commit: newTip });
    const env = await envHashAt(repo, work);
    await p.journal.append({ type: 'env.changed', hash: env, reason: `added ${specs.join(', ')}` });
    await p.mailbox
      .send(
        MAILBOX_ALL,
        {
          type: 'info',
          body: `Dependencies added on staging: ${specs.join(', ')}. Merge staging or wait to be restarted.`,
        },
        { from: 'supervisor' },
      )
      .catch(traced('deps.send'));
    for (const t of new Set(chosen.map((c) => c.task))) {
      await p.journal.append({
        ...(p.item ? { item: p.item } : {}),
        type: 'task.unblocked',
        task: t,
        reason: `dependency approved and installed on staging: ${specs.join(', ')}`,
      });
    }
    return { installed: chosen, command, commit: newTip, envHash: env };
  } finally {
    await removeWorktree(repo, work, { force: true }).catch(traced('deps.removeWorktree'));
  }
}

export async function denyDeps(
  repoRoot: string,
  run: string,
  task: string,
  reason: string,
): Promise<DepRequest[]> {
  return withLocalPorts(repoRoot, run, (p) => denyDepsOn(p, task, reason));
}

/** Refuses a task's requests: the worker is told why, and the task is unblocked without them. */
export async function denyDepsOn(p: DepsPorts, task: string, reason: string): Promise<DepRequest[]> {
  const state = await load(p);
  const reqs = pendingRequests(state).filter((r) => r.task === task);
  if (reqs.length === 0) {
    throw new OrchError('ERR_ORCH_DEPS_NONE', `Task ${task} has no pending dependency request.`, {
      hint: 'See the pending requests with `orch deps list`.',
    });
  }
  const what = reqs.map((r) => r.spec).join(', ');
  await p.mailbox
    .send(
      task,
      { type: 'info', body: `Your request for ${what} was denied: ${reason}` },
      { from: 'supervisor' },
    )
    .catch(traced('deps.send'));
  await p.journal.append({
    ...(p.item ? { item: p.item } : {}),
    type: 'task.unblocked',
    task,
    reason: `dependency request for ${what} denied: ${reason}. Do the task without it.`,
  });
  return reqs;
}

export type DepsDecision = Extract<OutboxBody, { kind: 'deps' }>;

/**
 * The supervisor's side of `orch deps approve|deny --store`: carries the user's decision out with
 * the same rules as a local approval, and says how it went. A refusal's code and hint travel in
 * `result`, so the user's command fails with the error a local one would.
 */
export async function decideDeps(p: DepsPorts, d: DepsDecision): Promise<Verdict> {
  try {
    if (d.decision === 'approve') {
      const res = await approveDepsOn(p, d.tasks ?? 'all');
      return {
        ok: true,
        detail: `installed ${[...new Set(res.installed.map((i) => i.spec))].join(', ')} on staging`,
        result: res,
      };
    }
    const [task, ...more] = d.tasks ?? [];
    if (task === undefined || more.length > 0 || d.reason === undefined)
      return { ok: false, detail: 'a denial names one task and a reason' };
    const denied = await denyDepsOn(p, task, d.reason);
    return {
      ok: true,
      detail: `denied ${denied.map((x) => x.spec).join(', ')} for ${task}`,
      result: { task, denied, reason: d.reason },
    };
  } catch (e) {
    if (e instanceof OrchError)
      return { ok: false, detail: e.message, result: { code: e.code, ...(e.hint ? { hint: e.hint } : {}) } };
    return { ok: false, detail: e instanceof Error ? e.message : String(e) };
  }
}

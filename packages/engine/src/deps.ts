/**
 * Dependency requests: a worker that needs a package asks for it (`orch task block --needs`) instead
 * of installing it. A person approves or denies; on approval orch installs it with the project's
 * package manager on staging (the only place lockfiles change), records the new environment hash,
 * tells every worker, and the blocked workers start again from the new staging tip.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { OrchError, loadConfig, type RunState, isOrchError, traced } from '@orch/core';
import { Repo, commitLeftovers, mergeIntoRef, removeWorktree, withRepoLock } from '@orch/git';
import { Mailbox, appendEvent, loadRunState, runPaths } from '@orch/store';
import { stagingTampered } from './merge/guard.js';
import { integrationWorktreePath, stagingBranch } from './run/context.js';
import { envHashAt } from './integrate/env.js';
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

/** The staging tip the journal last recorded, once the real ref is seen there (else tampering). */
async function journaledTip(repo: Repo, repoRoot: string, run: string): Promise<string> {
  for (let i = 0; ; i++) {
    const expected = (await load(repoRoot, run)).stagingCommit;
    const actual = await repo.tryRevParse(`refs/heads/${stagingBranch(run)}`);
    if (actual === expected) return expected;
    // The supervisor journals right after it moves the ref: give its line a moment.
    if (i >= 20) throw stagingTampered(run, expected, actual);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function load(repoRoot: string, run: string): Promise<RunState> {
  const state = await loadRunState(runPaths(repoRoot, run).dir);
  if (!state) throw new OrchError('ERR_ORCH_RUN_NOT_FOUND', `Run ${run} has no journal.`);
  return state;
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
  const dir = runPaths(repoRoot, run).dir;
  const state = await load(repoRoot, run);
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
  const repo = await Repo.open(repoRoot);
  const config = await loadConfig(repoRoot);
  const ref = `refs/heads/${stagingBranch(run)}`;
  const tip = await journaledTip(repo, repoRoot, run);
  const work = `${integrationWorktreePath(repoRoot, config, run)}-deps`;
  // A killed earlier approval may have left its worktree behind; it held nothing merged anywhere.
  await removeWorktree(repo, work, { force: true }).catch(traced('deps.removeWorktree'));
  await withRepoLock(repo, () => repo.git(['worktree', 'add', '--detach', '--force', work, tip]));
  try {
    await bootstrapWorktree(repoRoot, work, config, process.env as Record<string, string>);
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
    // Onto exactly the journaled tip: a staging ref moved by anyone but orch is never built on.
    let onto = tip;
    let m: Awaited<ReturnType<typeof mergeIntoRef>>;
    for (let i = 1; ; i++) {
      try {
        m = await mergeIntoRef(repo, {
          target: ref,
          source: commit,
          message: `orch: dependencies ${specs.join(', ')}`,
          expectedOld: onto,
        });
        break;
      } catch (e) {
        if (!isOrchError(e, 'ERR_ORCH_REF_MOVED') || i >= 5) throw e;
        onto = await journaledTip(repo, repoRoot, run); // the supervisor merged meanwhile
      }
    }
    if (m.status === 'conflict') {
      throw new OrchError(
        'ERR_ORCH_DEPS_CONFLICT',
        `The dependency change conflicts with staging in ${m.files.join(', ')}.`,
        {
          hint: 'Approve the requests one task at a time, or add the package on the base branch yourself and deny the request.',
        },
      );
    }
    const newTip = m.status === 'merged' ? m.commit : onto;
    await appendEvent(dir, {
      type: 'staging.moved',
      from: onto,
      to: newTip,
      reason: `dependencies approved: ${specs.join(', ')}`,
    });
    // The dependency commit adds only what was approved on top of a verified tip: new worktrees
    // may start from it. (On a tip whose incremental check still runs, that check decides.)
    if (newTip !== onto && (await load(repoRoot, run)).stagingVerified === onto)
      await appendEvent(dir, { type: 'staging.verified', commit: newTip });
    const env = await envHashAt(repo, work);
    await appendEvent(dir, { type: 'env.changed', hash: env, reason: `added ${specs.join(', ')}` });
    const box = new Mailbox(dir, { tasks: state.order });
    await box
      .broadcast(
        {
          type: 'info',
          body: `Dependencies added on staging: ${specs.join(', ')}. Merge staging or wait to be restarted.`,
        },
        { from: 'supervisor' },
      )
      .catch(traced('deps.send'));
    for (const t of new Set(chosen.map((c) => c.task))) {
      await appendEvent(dir, {
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
  const dir = runPaths(repoRoot, run).dir;
  const state = await load(repoRoot, run);
  const reqs = pendingRequests(state).filter((r) => r.task === task);
  if (reqs.length === 0) {
    throw new OrchError('ERR_ORCH_DEPS_NONE', `Task ${task} has no pending dependency request.`, {
      hint: 'See the pending requests with `orch deps list`.',
    });
  }
  const what = reqs.map((r) => r.spec).join(', ');
  const box = new Mailbox(dir, { tasks: state.order });
  await box
    .send(
      task,
      { type: 'info', body: `Your request for ${what} was denied: ${reason}` },
      { from: 'supervisor' },
    )
    .catch(traced('deps.send'));
  await appendEvent(dir, {
    type: 'task.unblocked',
    task,
    reason: `dependency request for ${what} denied: ${reason}. Do the task without it.`,
  });
  return reqs;
}

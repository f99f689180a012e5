/**
 * The supervisor's side of the shared git remote (`--remote`), the only way code moves in a
 * distributed run. Staging is published after every move with `--force-with-lease` on the tip the
 * supervisor journaled (a compare-and-swap on the remote); a task's branch, which its host pushed,
 * is fetched into the supervisor's copy of the task before the task is verified; the branch an
 * attempt starts from is published before a host takes it. The user's branch is never pushed by
 * force: promotion stays a fast-forward of the user's checkout, as in a local run.
 */
import { existsSync } from 'node:fs';
import { OrchError, traced } from '@orch/core';
import type { Repository } from '@orch/engine';
import { runGit, type GitResult } from '@orch/git';

export interface RemoteOptions {
  /** The supervisor's repository (the user's checkout). */
  repoRoot: string;
  /** The remote's URL or path, as git takes it. */
  url: string;
  run: string;
}

const stagingRefOf = (run: string): string => `refs/heads/orch/${run}/staging`;
const taskBranchOf = (run: string, task: string): string => `orch/${run}/${task}/work`;
/** Where the supervisor keeps what it last fetched of a task's branch (its lease for the next push). */
const trackingRef = (run: string, task: string): string => `refs/orch/remote/${run}/${task}`;

async function git(o: RemoteOptions, args: string[], what: string): Promise<GitResult> {
  const r = await runGit(args, { cwd: o.repoRoot, reject: false });
  if (r.exitCode !== 0) {
    throw new OrchError(
      'ERR_ORCH_REMOTE',
      `run ${o.run}: ${what} on the remote failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`,
      {
        hint: 'Check that the remote is reachable from here (`git ls-remote <url>`); a refused push means the branch moved there since orch last saw it.',
      },
    );
  }
  return r;
}

/** Compare-and-swap push: `ref` on the remote moves to `commit` only if it is at `expected` (null: absent). */
export async function pushWithLease(
  o: RemoteOptions,
  ref: string,
  commit: string,
  expected: string | null,
): Promise<void> {
  await git(
    o,
    ['push', '-q', '--no-verify', `--force-with-lease=${ref}:${expected ?? ''}`, o.url, `${commit}:${ref}`],
    `publishing ${ref}`,
  );
}

/** The commit `ref` is at on the remote, or null. */
export async function remoteTip(o: RemoteOptions, ref: string): Promise<string | null> {
  const r = await git(o, ['ls-remote', o.url, ref], `reading ${ref}`);
  return r.stdout.split(/\s/)[0] || null;
}

/**
 * The run's start on the remote: staging (which must not be there yet) and the base branch, the
 * latter only as a fast-forward (never forced; a remote whose base has moved keeps it).
 */
export async function publishRunStart(
  o: RemoteOptions,
  start: { base: string; baseCommit: string; stagingCommit: string },
): Promise<{ basePushed: boolean }> {
  await pushWithLease(o, stagingRefOf(o.run), start.stagingCommit, null);
  const r = await runGit(
    ['push', '-q', '--no-verify', o.url, `${start.baseCommit}:refs/heads/${start.base}`],
    { cwd: o.repoRoot, reject: false },
  );
  return { basePushed: r.exitCode === 0 };
}

/**
 * Publishes what a task's next attempt starts from (the supervisor's copy of its branch: the
 * verified staging tip at first, later the earlier attempts' work with staging merged in).
 */
export async function publishTaskStart(o: RemoteOptions, task: string, commit: string): Promise<string> {
  const branch = taskBranchOf(o.run, task);
  const tip = await remoteTip(o, `refs/heads/${branch}`);
  if (tip !== commit) await pushWithLease(o, `refs/heads/${branch}`, commit, tip);
  await git(o, ['update-ref', trackingRef(o.run, task), commit], 'noting the task branch');
  return branch;
}

/**
 * Fetches the task's branch as its host pushed it and moves the supervisor's copy of the task
 * (its worktree, on that branch) there, so verification sees exactly what the host pushed.
 */
export async function fetchTaskWork(
  o: RemoteOptions,
  task: string,
  worktree: string | undefined,
): Promise<void> {
  const branch = taskBranchOf(o.run, task);
  await git(
    o,
    [
      'fetch',
      '-q',
      '--no-tags',
      '--no-write-fetch-head',
      o.url,
      `+refs/heads/${branch}:${trackingRef(o.run, task)}`,
    ],
    `fetching ${branch}`,
  );
  const tip = (
    await git(o, ['rev-parse', '--verify', `${trackingRef(o.run, task)}^{commit}`], 'reading the fetch')
  ).stdout.trim();
  // A copy of the task this machine does not have (a takeover makes it later, from the branch).
  if (!worktree || !existsSync(worktree)) return;
  const head = (await runGit(['rev-parse', 'HEAD'], { cwd: worktree, reject: false })).stdout.trim();
  if (head === tip) return;
  // orch's own copy of the task: nothing of a person's is in it; the remote has the worker's work.
  await runGit(['reset', '-q', '--hard', tip], { cwd: worktree });
}

/**
 * The run's repository with staging shared through the remote: every move of staging is pushed
 * with a lease on the tip it moved from; a push the remote refuses puts the local ref back and
 * fails the move (ERR_ORCH_REMOTE), so the journal never records a tip the hosts cannot fetch.
 */
export function remoteRepository(
  inner: Repository,
  o: RemoteOptions,
  opts: { promoteBase?: string } = {},
): Repository {
  const staging = stagingRefOf(o.run);
  const base = opts.promoteBase !== undefined ? `refs/heads/${opts.promoteBase}` : undefined;
  return {
    ...inner,
    async updateRef(ref, next, expectedOld, message) {
      if (ref === base && expectedOld !== null) {
        // Promotion by a supervisor away from the user's checkout: the remote's base branch moves,
        // only from the tip promotion checked (a fast-forward: staging contains it), never forced.
        await pushWithLease(o, ref, next, expectedOld);
        await inner.updateRef(ref, next, expectedOld, message).catch(traced('remote.local-base'));
        return;
      }
      await inner.updateRef(ref, next, expectedOld, message);
      if (ref !== staging || expectedOld === null) return;
      try {
        await pushWithLease(o, ref, next, expectedOld);
      } catch (e) {
        await inner.updateRef(ref, expectedOld, next).catch(traced('remote.revert-staging'));
        throw e;
      }
    },
    remote: {
      fetch: async (refs) => {
        if (refs.length === 0) return;
        await git(o, ['fetch', '-q', '--no-tags', '--no-write-fetch-head', o.url, ...refs], 'fetching');
      },
      push: async (ref, expectedOld) => {
        const commit = (
          await git(o, ['rev-parse', '--verify', `${ref}^{commit}`], `reading ${ref}`)
        ).stdout.trim();
        await pushWithLease(o, ref, commit, expectedOld);
      },
    },
  };
}

/** Where a takeover keeps what it fetched of the run's staging and base (not a task's tracking ref). */
const runTrackingRef = (run: string, what: 'staging' | 'base'): string =>
  `refs/orch/remote-run/${run}/${what}`;

export interface RunBranchesSync {
  /** Staging's tip on the remote, now this repository's staging as well. */
  staging: string;
  /** The task branches created here from the remote (they were missing). */
  created: string[];
  /** The base branch's tip on the remote, when it was asked for and is there. */
  base?: string;
}

/**
 * After a takeover the remote is the truth: this repository's staging is set to the remote's (a
 * move the dead supervisor made here but never published is dropped; it was never journaled
 * either), each task branch the remote has and this repository lacks is made here, and with
 * `base` (a supervisor away from the user's checkout) the base branch follows the remote's too.
 * Task branches that exist here are left alone: the supervisor fetches a task's work before it
 * verifies it.
 */
export async function syncRunBranches(
  o: RemoteOptions,
  tasks: readonly string[],
  opts: { base?: string } = {},
): Promise<RunBranchesSync> {
  const stagingRef = stagingRefOf(o.run);
  const listed = await git(o, ['ls-remote', o.url, `refs/heads/orch/${o.run}/*`], 'listing the run');
  const onRemote = new Map(
    listed.stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((p): p is [string, string] => p.length === 2)
      .map(([sha, ref]) => [ref, sha]),
  );
  if (!onRemote.has(stagingRef)) {
    throw new OrchError('ERR_ORCH_REMOTE', `run ${o.run}: the remote ${o.url} has no ${stagingRef}`, {
      hint: 'Give the remote the run was started with (--remote, or store.remote in the config).',
    });
  }
  const wanted = tasks.filter((t) => onRemote.has(`refs/heads/${taskBranchOf(o.run, t)}`));
  const specs = [
    `+${stagingRef}:${runTrackingRef(o.run, 'staging')}`,
    ...wanted.map((t) => `+refs/heads/${taskBranchOf(o.run, t)}:${trackingRef(o.run, t)}`),
    ...(opts.base ? [`+refs/heads/${opts.base}:${runTrackingRef(o.run, 'base')}`] : []),
  ];
  await git(o, ['fetch', '-q', '--no-tags', '--no-write-fetch-head', o.url, ...specs], 'fetching the run');
  const tip = async (ref: string): Promise<string | undefined> => {
    const r = await runGit(['rev-parse', '--verify', '-q', `${ref}^{commit}`], {
      cwd: o.repoRoot,
      reject: false,
    });
    return r.exitCode === 0 ? r.stdout.trim() : undefined;
  };
  const staging = (await tip(runTrackingRef(o.run, 'staging'))) as string;
  await git(o, ['update-ref', stagingRef, staging], 'setting staging');
  const created: string[] = [];
  for (const t of wanted) {
    const branch = `refs/heads/${taskBranchOf(o.run, t)}`;
    if (await tip(branch)) continue;
    await git(
      o,
      ['update-ref', branch, (await tip(trackingRef(o.run, t))) as string, ''],
      'making a task branch',
    );
    created.push(t);
  }
  let base: string | undefined;
  if (opts.base) {
    base = await tip(runTrackingRef(o.run, 'base'));
    if (base) await git(o, ['update-ref', `refs/heads/${opts.base}`, base], 'setting the base branch');
  }
  return { staging, created, ...(base ? { base } : {}) };
}

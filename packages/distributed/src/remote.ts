/**
 * The supervisor's side of the shared git remote (`--remote`), the only way code moves in a
 * distributed run. Staging is published after every move with `--force-with-lease` on the tip the
 * supervisor journaled (a compare-and-swap on the remote); a task's branch, which its host pushed,
 * is fetched into the supervisor's copy of the task before the task is verified; the branch an
 * attempt starts from is published before a host takes it. The user's branch is never pushed by
 * force: promotion stays a fast-forward of the user's checkout, as in a local run.
 */
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
  if (!worktree) return;
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
export function remoteRepository(inner: Repository, o: RemoteOptions): Repository {
  const staging = stagingRefOf(o.run);
  return {
    ...inner,
    async updateRef(ref, next, expectedOld, message) {
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

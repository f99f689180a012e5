/**
 * A supervisor away from the user's checkout (`orch state resume --store … --remote … --workdir
 * DIR` on another machine): its checkout is a clone of the remote in DIR (made there, or reused
 * when DIR is one already), and the run's private files are rebuilt in it from the store: the
 * frozen plan (`keys.plan(run)`), the run's key (from `ORCH_RUN_KEY_FILE`, never from the store)
 * and the configuration the run started with (its signed `run.started`). Its verification and
 * integration checkouts live there too. The clone's HEAD is detached: no branch is checked out in
 * it, so promotion moves the base branch on the remote instead of in a checkout.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Config, OrchError, type RunEvent } from '@orch/core';
import { Repo, runGit } from '@orch/git';
import { runPaths, writeFileAtomic } from '@orch/store';

type Started = Extract<RunEvent, { type: 'run.started' }>;

/** Where a takeover continues the run's supervisor. */
export type ResumeSite =
  { kind: 'checkout'; repoRoot: string } | { kind: 'workdir'; dir: string; remote: string };

/**
 * Pure: the supervisor continues in the checkout that holds the run's folder (its first
 * supervisor's), unless `--workdir` names a folder of its own; anywhere else it needs both a work
 * directory and the remote. The remote defaults to the one the run recorded at its start.
 */
export function chooseResumeSite(o: {
  run: string;
  /** The repository the command runs in, when its `.orchestrator/runs/<run>/` exists. */
  checkoutWithRun?: string;
  workdir?: string;
  remote?: string;
}): ResumeSite {
  if (o.workdir === undefined && o.checkoutWithRun !== undefined)
    return { kind: 'checkout', repoRoot: o.checkoutWithRun };
  if (o.workdir === undefined || o.remote === undefined) {
    const missing = [
      o.workdir === undefined ? '--workdir DIR' : '',
      o.remote === undefined ? '--remote GIT_URL' : '',
    ]
      .filter(Boolean)
      .join(' and ');
    throw new OrchError(
      'ERR_ORCH_USAGE',
      `run ${o.run} was not supervised from this checkout, so its supervisor needs a place of its own here: ${missing} missing`,
      {
        hint: 'Run it in the checkout the run started from, or give --workdir DIR (a folder for a clone of the remote) and --remote GIT_URL (or store.remote in the config).',
        exitCode: 2,
      },
    );
  }
  return { kind: 'workdir', dir: resolve(o.workdir), remote: o.remote };
}

/** The files a supervisor away from the user's checkout needs, relative to its clone's root. */
export interface RebuiltRunFiles {
  files: { path: string; content: string; mode: number }[];
  config: Config;
}

/**
 * Pure: the run's private files from what the store holds. The plan must be the one frozen at the
 * start and the configuration the one `run.started` recorded (a run started before they were
 * recorded cannot be taken over elsewhere).
 */
export function rebuildRunFiles(
  run: string,
  o: { planText: string | undefined; started: Started | undefined; key: Uint8Array },
): RebuiltRunFiles {
  const missing = (what: string): OrchError =>
    new OrchError('ERR_ORCH_PLAN_UNREADABLE', `run ${run}: the store has no ${what}`, {
      hint: 'Resume it in the checkout it started from (its supervisor files are there).',
    });
  if (o.planText === undefined) throw missing('frozen plan');
  if (!o.started) throw missing('run.started event');
  if (!o.started.config)
    throw missing('configuration in its run.started (it started before orch recorded it)');
  const config = Config.parse(o.started.config);
  const dir = `.orchestrator/runs/${run}`;
  return {
    config,
    files: [
      { path: `${dir}/plan.yaml`, content: o.planText as string, mode: 0o644 },
      { path: `${dir}/journal.key`, content: `${Buffer.from(o.key).toString('hex')}\n`, mode: 0o600 },
    ],
  };
}

const git = async (cwd: string, args: string[]): Promise<void> => {
  const r = await runGit(args, { cwd, reject: false });
  if (r.exitCode !== 0)
    throw new OrchError(
      'ERR_ORCH_REMOTE',
      `git ${args[0]} failed in ${cwd}: ${(r.stderr || r.stdout).trim()}`,
      {
        hint: 'Check that the remote is reachable from here (`git ls-remote <url>`).',
      },
    );
};

/**
 * A clone of `remote` at `dir`: reused when it is one (its origin is `remote`), made when `dir` is
 * absent or empty (in a folder beside it first, moved into place once complete: nothing
 * half-made is left). Anything else at `dir` is refused. Returns the clone's root.
 */
export async function ensureWorkdirClone(dir: string, remote: string): Promise<string> {
  if (existsSync(join(dir, '.git'))) {
    const origin = await runGit(['config', '--get', 'remote.origin.url'], { cwd: dir, reject: false });
    if (origin.exitCode === 0 && origin.stdout.trim() === remote) return (await Repo.open(dir)).root;
    throw new OrchError(
      'ERR_ORCH_USAGE',
      `--workdir ${dir} is a git repository, but not a clone of ${remote}`,
      {
        hint: 'Give an empty or new folder, or the folder of an earlier takeover of a run on the same remote.',
        exitCode: 2,
      },
    );
  }
  if (existsSync(dir) && (await readdir(dir)).length > 0) {
    throw new OrchError('ERR_ORCH_USAGE', `--workdir ${dir} is not empty and not a clone of ${remote}`, {
      hint: 'Give an empty or new folder: orch makes its clone of the remote there.',
      exitCode: 2,
    });
  }
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.clone-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  try {
    await git(parent, ['clone', '-q', remote, tmp]);
    // No branch is checked out in orch's own clone (promotion then moves the remote's base).
    await git(tmp, ['checkout', '-q', '--detach']);
    if (existsSync(dir)) await rm(dir, { recursive: true });
    await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return (await Repo.open(dir)).root;
}

/** Writes the rebuilt files into the clone (the key exclusively readable by its owner). */
export async function writeRunFiles(root: string, run: string, rebuilt: RebuiltRunFiles): Promise<void> {
  await mkdir(runPaths(root, run).dir, { recursive: true });
  for (const f of rebuilt.files) await writeFileAtomic(join(root, f.path), f.content, { mode: f.mode });
  await (
    await Repo.open(root)
  ).ensureExcluded([
    '/.orchestrator/',
    `/${rebuilt.config.orchestration.worktree_dir.replace(/^\/+|\/+$/g, '')}/`,
  ]);
}

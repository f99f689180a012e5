/**
 * The detached supervisor of a distributed run (`orch _supervise --store …`, started by `orch run
 * --detach --store …` or `orch state resume --detach --store …`): it takes the run's lease (the
 * command that started it let go of it), and supervises on the store's ports exactly as a
 * supervisor in a terminal does, its lines in the run's supervisor.log.
 */
import { realpath, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { ERR_RUN_KEY, ExitCode, OrchError, loadConfig, loadPlan } from '@orch/core';
import { orchBinPath, superviseRun, supervisorLog, supervisorSecretFile } from '@orch/engine';
import { readRunKey, resolveRun, runPaths } from '@orch/store';
import type { CommandIO, CommandResult } from '../../define.js';
import { outliveOutput, println } from '../../output.js';
import { describeEvent } from './progress.js';
import { finishResult } from './runner.js';

export interface SuperviseStoreOpts {
  run: string;
  store: string;
  remote?: string;
  workdir?: string;
  noPromote: boolean;
  resume: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The environment with the password the starting command handed over (`supervisorSecretFile`)
 * read into it; the file is removed at once, so the secret is on disk only while the session starts.
 */
async function takeHandedPassword(repoRoot: string, run: string, env: Env): Promise<Env> {
  const file = env.ORCH_REDIS_PASSWORD_FILE;
  if (!file) return env;
  const handed = supervisorSecretFile(repoRoot, run);
  const same = await Promise.all([realpath(file), realpath(handed)])
    .then(([a, b]) => a === b)
    .catch(() => false);
  if (!same) return env;
  const { storePassword } = await import('@orch/distributed');
  const password = await storePassword({ ORCH_REDIS_PASSWORD_FILE: file });
  await rm(handed, { force: true });
  const { ORCH_REDIS_PASSWORD_FILE: _gone, ...rest } = env;
  return password ? { ...rest, ORCH_REDIS_PASSWORD: password } : rest;
}

export async function superviseFromStore(o: SuperviseStoreOpts, io: CommandIO): Promise<CommandResult> {
  const { repoRoot } = await resolveRun({ cwd: io.cwd, env: io.env, run: o.run });
  const env = await takeHandedPassword(repoRoot, o.run, io.env);
  // As the local detached supervisor: no hangup handler (its session ending means it was stopped),
  // and lines that cannot reach the pane go to the log.
  outliveOutput(supervisorLog(repoRoot, o.run));
  if (o.resume) {
    const { resumeFromStore } = await import('../state/resume-store.js');
    return resumeFromStore(
      o.store,
      {
        run: o.run,
        ...(o.remote !== undefined ? { remote: o.remote } : {}),
        ...(o.workdir !== undefined ? { workdir: o.workdir } : {}),
        dryRun: false,
        detach: false,
        json: false,
        inSession: true,
      },
      { ...io, env },
    );
  }
  if (o.remote === undefined) {
    throw new OrchError('ERR_ORCH_USAGE', `the supervisor of run ${o.run} was given no remote`, {
      exitCode: ExitCode.Usage,
    });
  }
  return superviseNewRun(repoRoot, { ...o, remote: o.remote }, env);
}

/** A run `orch run --detach --store` prepared: its first supervisor, here. */
async function superviseNewRun(
  repoRoot: string,
  o: SuperviseStoreOpts & { remote: string },
  env: Env,
): Promise<CommandResult> {
  const d = await import('@orch/distributed');
  const store = await d.storeFromUrl(o.store, env);
  const paths = runPaths(repoRoot, o.run);
  const key = await readRunKey(paths.dir);
  if (!key) {
    throw new OrchError(ERR_RUN_KEY, `run ${o.run} has no key in ${paths.dir}`, {
      hint: 'The run was not prepared in this checkout; resume it with `orch state resume --store …`.',
    });
  }
  const dist = await d.DistributedRun.connect({ store, remote: o.remote, repoRoot });
  try {
    // The lease is free (the starting command released it); a live holder is refused.
    const taken = await d.takeOverRun(dist.redis, dist.keys, o.run, {
      key,
      holder: `${hostname()}:${process.pid}`,
    });
    dist.adopt(taken, key);
    const { plan } = await loadPlan(paths.plan);
    const ports = await dist.ports(o.run, plan, await loadConfig(repoRoot));
    const state = await superviseRun(repoRoot, o.run, orchBinPath(), {
      ports,
      ...(o.noPromote ? { noPromote: true } : {}),
      onEvent: (ev, s) => {
        const line = describeEvent(ev, s);
        if (line) println(line);
      },
    });
    return finishResult(state, false, undefined, o.store);
  } finally {
    await dist.close();
  }
}

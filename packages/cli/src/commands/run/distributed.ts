/**
 * `orch run --store … --remote …` (or `store.url` and `store.remote` in the config): the run's
 * journal in Redis, its attempts on `orch host` machines, its code through the remote. Loaded only
 * when a store is named, so a local run never loads the Redis and BullMQ clients.
 */
import { resolve } from 'node:path';
import { ExitCode, OrchError, loadConfig } from '@orch/core';
import { Repo } from '@orch/git';

export interface StoreChoice {
  store?: string | undefined;
  remote?: string | undefined;
}

/** The distributed run the options (or the config) ask for; undefined for a local run. */
export async function openDistributed(cwd: string, o: StoreChoice, env: NodeJS.ProcessEnv) {
  const repoRoot = (await Repo.open(cwd)).root;
  const config = await loadConfig(repoRoot);
  const url = o.store ?? config.store.url;
  const remote = o.remote ?? config.store.remote;
  if (url === undefined && remote === undefined) return undefined;
  if (url === undefined || remote === undefined) {
    throw new OrchError(
      'ERR_ORCH_USAGE',
      `a distributed run needs both a store and a remote (${url === undefined ? 'no store' : 'no remote'} given)`,
      {
        hint: 'Give both: --store redis://HOST:PORT/DB --remote GIT_URL (or store.url and store.remote in the config).',
        exitCode: ExitCode.Usage,
      },
    );
  }
  const { DistributedRun, noTrustedHost, storeFromUrl } = await import('@orch/distributed');
  const store = await storeFromUrl(url, env);
  // Attempts' secrets are sealed to the trusted hosts: with none, no attempt could ever run.
  if (Object.keys(config.store.trusted_hosts).length === 0) throw noTrustedHost();
  return { url, dist: await DistributedRun.connect({ store, remote, repoRoot }) };
}

/**
 * What a detached supervisor of a distributed run is handed besides the URL: the password when the
 * environment holds it (the engine passes it on in a file only the owner reads), and the variables
 * that name files (the password file, the TLS files, the run key) as absolute paths.
 */
export async function storeHandover(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Promise<{ password?: string; fileEnv: Record<string, string> }> {
  const { STORE_TLS_ENV } = await import('@orch/distributed');
  const password = env.ORCH_REDIS_PASSWORD || undefined;
  const fileEnv: Record<string, string> = {};
  for (const name of ['ORCH_REDIS_PASSWORD_FILE', ...STORE_TLS_ENV, 'ORCH_RUN_KEY_FILE']) {
    const v = env[name];
    if (v && !(password && name === 'ORCH_REDIS_PASSWORD_FILE')) fileEnv[name] = resolve(cwd, v);
  }
  return { ...(password ? { password } : {}), fileEnv };
}

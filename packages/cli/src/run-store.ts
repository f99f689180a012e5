/**
 * The one place a command opens a run: from a Redis store (`--store URL`, else the config's
 * `store.url`), so it works from any machine that reaches the store, or from the run folder under
 * `.orchestrator/` as before. `@orch/distributed` (ioredis, BullMQ) is loaded only when a store URL
 * is given: local commands never load it.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { ERR_RUN_KEY, ExitCode, OrchError, type RunState } from '@orch/core';
import type {
  ContextApi,
  connectStore,
  Keys,
  LeaseHolder,
  MailboxApi,
  RedisRunLog,
  RedisUserOutbox,
  StoreOptions,
} from '@orch/distributed';
import type { CommandIO } from './define.js';

type Redis = Awaited<ReturnType<typeof connectStore>>;

/** The store a command uses: `--store`, else the config's `store.url`; undefined for the local run folder. */
export async function storeUrlOf(store: string | undefined, io: CommandIO): Promise<string | undefined> {
  if (store !== undefined && store !== '') return store;
  // A worker finds its run through ORCH_*; its reports are the hot path and read no config.
  if (io.env.ORCH_TASK_TOKEN) return undefined;
  const { resolveRepoRoot } = await import('@orch/store');
  const root = await resolveRepoRoot({ cwd: io.cwd, env: io.env }).catch(() => undefined);
  if (!root) return undefined;
  const { loadConfig } = await import('@orch/core');
  // A config that does not load leaves the local mode (the command reports its own problems).
  const config = (await loadConfig(root).catch(() => undefined)) as { store?: { url?: unknown } } | undefined;
  const url = config?.store?.url;
  return typeof url === 'string' && url !== '' ? url : undefined;
}

/** A run in a Redis store, opened for reading (and for the user's writes through its outbox). */
export interface StoreRun {
  readonly url: string;
  readonly store: StoreOptions;
  readonly run: string;
  readonly redis: Redis;
  readonly keys: Keys;
  /** The run log, read side: signatures are checked when the run's key is known here. */
  readonly log: RedisRunLog;
  /** The state after every entry read so far (`log.state`). */
  state(): RunState;
  /** The run's key when this machine has it (ORCH_RUN_KEY_FILE, or the run folder of this checkout). */
  readonly key: Buffer | undefined;
  readonly mailbox: MailboxApi;
  readonly context: ContextApi;
  readonly userOutbox: RedisUserOutbox;
  /** Who supervises the run now (its lease is live), or undefined. */
  supervisor(): Promise<LeaseHolder | undefined>;
  /** The frozen plan's YAML, when the supervisor stored it. */
  plan(): Promise<string | undefined>;
  close(): void;
}

/**
 * Opens `run` (else ORCH_RUN, else the store's newest run) in the store at `url`. A store out of
 * reach is ERR_ORCH_STORE_UNREACHABLE; a run it does not hold, ERR_ORCH_RUN_NOT_FOUND (as a run
 * missing from `.orchestrator/runs/`), or ERR_ORCH_NO_RUN when it holds none.
 */
export async function openStoreRun(url: string, run: string | undefined, io: CommandIO): Promise<StoreRun> {
  const d = await import('@orch/distributed');
  const { assertSafeName } = await import('@orch/store');
  const store = await d.storeFromUrl(url, io.env);
  const redis = await d.connectStore(store);
  const where = `${store.host}:${store.port}/${store.db}`;
  try {
    const keys = d.keysFor(store.prefix);
    const id = run ?? (io.env.ORCH_RUN || undefined) ?? (await d.latestStoreRun(redis, keys));
    if (!id) {
      throw new OrchError('ERR_ORCH_NO_RUN', `the store at ${where} holds no run`, {
        hint: 'Start one with `orch run --store …`, or name one with --run <id>.',
      });
    }
    assertSafeName(id, 'run id');
    if (!(await d.storeHasRun(redis, keys, id))) {
      throw new OrchError('ERR_ORCH_RUN_NOT_FOUND', `run ${id} does not exist in the store at ${where}`, {
        hint: 'Check the id (the store lists its runs by start time), or unset ORCH_RUN.',
      });
    }
    const key = await runKeyFor(id, io);
    const log = new d.RedisRunLog(redis, keys, id, key ? { key } : {});
    await log.refresh();
    if (!log.state) {
      throw new OrchError('ERR_ORCH_RUN_NOT_FOUND', `run ${id} has no events yet in the store at ${where}`, {
        hint:
          log.skipped > 0
            ? `${log.skipped} entr(ies) of its log are not signed with the run key this machine has (ORCH_RUN_KEY_FILE).`
            : 'Wait until `orch run` has started it.',
      });
    }
    return {
      url,
      store,
      run: id,
      redis,
      keys,
      log,
      state: () => log.state as RunState,
      key,
      mailbox: new d.RedisMailbox(redis, keys, id, { tasks: log.state.order }),
      context: new d.RedisContextStore(redis, keys),
      userOutbox: new d.RedisUserOutbox(redis, keys, id),
      supervisor: () => d.leaseHolder(redis, keys, id),
      plan: () => d.storedPlan(redis, keys, id),
      close: () => {
        log.close();
        redis.disconnect();
      },
    };
  } catch (e) {
    redis.disconnect();
    throw e;
  }
}

/** Runs `fn` on the store's run and closes the connection after it. */
export async function withStoreRun<T>(
  url: string,
  run: string | undefined,
  io: CommandIO,
  fn: (sr: StoreRun) => Promise<T>,
): Promise<T> {
  const sr = await openStoreRun(url, run, io);
  try {
    return await fn(sr);
  } finally {
    sr.close();
  }
}

/**
 * The run's key on this machine: the file named by ORCH_RUN_KEY_FILE (a copy of the run folder's
 * `journal.key`, readable by its owner only), else the run folder of the checkout this runs in.
 */
export async function runKeyFor(run: string, io: CommandIO): Promise<Buffer | undefined> {
  const file = io.env.ORCH_RUN_KEY_FILE;
  if (file !== undefined && file !== '') {
    const st = await stat(file).catch(() => undefined);
    const bad = (why: string): OrchError =>
      new OrchError(ERR_RUN_KEY, `the run key file ${file} ${why}`, {
        hint: "Copy the run's .orchestrator/runs/<run>/journal.key from the supervisor's machine (chmod 600) and point ORCH_RUN_KEY_FILE at it.",
      });
    if (!st?.isFile()) throw bad('does not exist');
    if ((st.mode & 0o077) !== 0) throw bad(`is readable by others (chmod 600 ${file})`);
    const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
    if (key.length !== 32) throw bad('does not hold a run key (64 hex digits)');
    return key;
  }
  const { readRunKey, resolveRepoRoot, runPaths } = await import('@orch/store');
  const root = await resolveRepoRoot({ cwd: io.cwd, env: io.env }).catch(() => undefined);
  return root ? readRunKey(runPaths(root, run).dir).catch(() => undefined) : undefined;
}

/** The key, or the error that says a write from this machine needs it. */
export function requireRunKey(sr: StoreRun): Buffer {
  if (sr.key) return sr.key;
  throw new OrchError(ERR_RUN_KEY, `this machine does not have the key of run ${sr.run}`, {
    hint: "The user's reports and messages are signed with the run's key: copy .orchestrator/runs/<run>/journal.key from the supervisor's machine (chmod 600) and set ORCH_RUN_KEY_FILE to it.",
  });
}

/**
 * Refuses a command that would read or write the journal of this checkout's run when that journal
 * is not here: a distributed run's folder holds its key and private files, its journal is in the
 * store (a local run's key is made with its first journal line).
 */
export async function assertJournalHere(repoRoot: string, run: string): Promise<void> {
  const { runPaths } = await import('@orch/store');
  const p = runPaths(repoRoot, run);
  if (existsSync(p.events) || !existsSync(p.key)) return;
  throw new OrchError(
    'ERR_ORCH_RUN_IN_STORE',
    `run ${run} keeps its journal in a Redis store, not in this checkout`,
    {
      hint: 'Pass --store redis://HOST:PORT/DB (the store the run was started with), or set store.url in the config.',
      exitCode: ExitCode.Usage,
    },
  );
}

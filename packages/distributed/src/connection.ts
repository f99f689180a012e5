/**
 * Reaching the Redis store of a distributed run: the `--store` URL (`redis://HOST:PORT/DB`, or
 * `rediss://` for TLS) names where; the password comes from the environment or a file, never from
 * the URL or a command line, and is never logged.
 */
import { readFile, stat } from 'node:fs/promises';
import { OrchError } from '@orch/core';
import { Redis } from 'ioredis';

export interface StoreAddress {
  host: string;
  port: number;
  db: number;
  tls: boolean;
}

export interface StoreOptions extends StoreAddress {
  password?: string;
  /** Namespace of every key orch writes (default `orch`). */
  prefix?: string;
}

const CONNECT_TIMEOUT_MS = 5_000;

function badUrl(url: string, why: string): OrchError {
  return new OrchError('ERR_ORCH_STORE_URL', `invalid store URL ${JSON.stringify(url)}: ${why}`, {
    hint: 'Write it as redis://HOST:PORT/DB (rediss:// for TLS); give the password in ORCH_REDIS_PASSWORD or ORCH_REDIS_PASSWORD_FILE.',
  });
}

/** Parses `redis://HOST[:PORT][/DB]`; a URL with a user or password is refused (it would be on argv). */
export function parseStoreUrl(url: string): StoreAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badUrl(url, 'not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw badUrl(url, 'the scheme must be redis or rediss');
  // Never echo a password back: the message names the URL without it.
  if (u.username !== '' || u.password !== '') {
    throw badUrl(`${u.protocol}//${u.host}${u.pathname}`, 'a password does not belong in the URL');
  }
  if (u.hostname === '') throw badUrl(url, 'no host');
  if (u.search !== '' || u.hash !== '') throw badUrl(url, 'no query or fragment is read');
  const port = u.port === '' ? 6379 : Number(u.port);
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,2}$/.test(path)) throw badUrl(url, 'the path is the database number');
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    db: path === '' ? 0 : Number(path),
    tls: u.protocol === 'rediss:',
  };
}

/**
 * The store's password: `ORCH_REDIS_PASSWORD`, else the file named by `ORCH_REDIS_PASSWORD_FILE`
 * (readable by its owner only, like a systemd credential), else none.
 */
export async function storePassword(
  env: Readonly<Record<string, string | undefined>>,
): Promise<string | undefined> {
  const direct = env.ORCH_REDIS_PASSWORD;
  if (direct !== undefined && direct !== '') return direct;
  const file = env.ORCH_REDIS_PASSWORD_FILE;
  if (file === undefined || file === '') return undefined;
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) {
    throw new OrchError('ERR_ORCH_STORE_UNREACHABLE', `the password file ${file} does not exist`, {
      hint: 'Point ORCH_REDIS_PASSWORD_FILE at a file holding the password on its first line.',
    });
  }
  if ((st.mode & 0o077) !== 0) {
    throw new OrchError('ERR_ORCH_STORE_UNREACHABLE', `the password file ${file} is readable by others`, {
      hint: `Make it private: chmod 600 ${file}`,
    });
  }
  return (await readFile(file, 'utf8')).split('\n')[0]?.trim() || undefined;
}

/** The store named by `url` with the password from `env`. */
export async function storeFromUrl(
  url: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<StoreOptions> {
  const addr = parseStoreUrl(url);
  const password = await storePassword(env);
  return { ...addr, ...(password !== undefined ? { password } : {}) };
}

/** ioredis options for the store (BullMQ needs `maxRetriesPerRequest: null` on its connections). */
export function redisOptions(store: StoreOptions, extra: { forBullmq?: boolean } = {}) {
  return {
    host: store.host,
    port: store.port,
    db: store.db,
    ...(store.password !== undefined ? { password: store.password } : {}),
    ...(store.tls ? { tls: { servername: store.host } } : {}),
    connectTimeout: CONNECT_TIMEOUT_MS,
    lazyConnect: true,
    enableOfflineQueue: !!extra.forBullmq,
    maxRetriesPerRequest: extra.forBullmq ? null : 2,
    // A command reports a store that is down after a few quick retries; BullMQ's long-lived
    // connections (a host's worker, the dispatch queue) keep reconnecting, so a Redis restart is survived.
    retryStrategy: extra.forBullmq
      ? (times: number) => Math.min(times * 200, 2_000)
      : (times: number) => (times > 3 ? null : times * 200),
  };
}

/** Opens a connection and checks it with a PING; a failure is ERR_ORCH_STORE_UNREACHABLE. */
export async function connectStore(store: StoreOptions): Promise<Redis> {
  const redis = new Redis(redisOptions(store));
  // ioredis reports errors as events too; the connect promise below is what decides.
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    const why = e instanceof Error ? e.message : String(e);
    const auth = /NOAUTH|WRONGPASS|invalid password/i.test(why);
    throw new OrchError(
      'ERR_ORCH_STORE_UNREACHABLE',
      `cannot use the store at ${store.host}:${store.port}/${store.db}: ${auth ? 'the password was refused' : why}`,
      {
        hint: auth
          ? 'Set ORCH_REDIS_PASSWORD (or ORCH_REDIS_PASSWORD_FILE) to the password in redis.conf (requirepass).'
          : 'Check the host and port, and that redis-server runs and accepts connections from here.',
        cause: e,
      },
    );
  }
  return redis;
}

/**
 * Reaching the Redis store of a distributed run: the `--store` URL (`redis://HOST:PORT/DB`, or
 * `rediss://` for TLS) names where; the password comes from the environment or a file, never from
 * the URL or a command line, and is never logged. Over TLS the server's certificate is checked
 * against the CA in `ORCH_REDIS_CA_FILE` (else the system's CAs) and must name the URL's host; a
 * client certificate for mutual TLS comes from `ORCH_REDIS_CERT_FILE` and `ORCH_REDIS_KEY_FILE`
 * (owner-only, as the password file). Files, never values on a command line.
 */
import { readFile, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { OrchError } from '@orch/core';
import { Redis } from 'ioredis';

export interface StoreAddress {
  host: string;
  port: number;
  db: number;
  tls: boolean;
}

/** PEM texts for a `rediss://` store, read from the files the environment names. */
export interface StoreTls {
  /** The CA the server's certificate must chain to (`ORCH_REDIS_CA_FILE`); else the system's. */
  ca?: string;
  /** A client certificate and its key for mutual TLS (`ORCH_REDIS_CERT_FILE`, `ORCH_REDIS_KEY_FILE`). */
  cert?: string;
  key?: string;
}

export interface StoreOptions extends StoreAddress {
  password?: string;
  /** Namespace of every key orch writes (default `orch`). */
  prefix?: string;
  /** With `tls`: what the files of the environment hold. */
  tlsFiles?: StoreTls;
}

/** The environment names of the TLS files (paths, never the secrets themselves). */
export const STORE_TLS_ENV = ['ORCH_REDIS_CA_FILE', 'ORCH_REDIS_CERT_FILE', 'ORCH_REDIS_KEY_FILE'] as const;

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

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The text of the file `env[name]` names, or undefined when it names none. `secret`: the file must
 * be readable by its owner only (a password, a private key), like a systemd credential.
 */
async function readEnvFile(
  env: Env,
  name: string,
  what: string,
  o: { secret: boolean; hint: string },
): Promise<string | undefined> {
  const file = env[name];
  if (file === undefined || file === '') return undefined;
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) {
    throw new OrchError('ERR_ORCH_STORE_UNREACHABLE', `the ${what} ${file} (${name}) does not exist`, {
      hint: o.hint,
    });
  }
  if (o.secret && (st.mode & 0o077) !== 0) {
    throw new OrchError('ERR_ORCH_STORE_UNREACHABLE', `the ${what} ${file} is readable by others`, {
      hint: `Make it private: chmod 600 ${file}`,
    });
  }
  return readFile(file, 'utf8');
}

/**
 * The store's password: `ORCH_REDIS_PASSWORD`, else the file named by `ORCH_REDIS_PASSWORD_FILE`
 * (readable by its owner only), else none.
 */
export async function storePassword(env: Env): Promise<string | undefined> {
  const direct = env.ORCH_REDIS_PASSWORD;
  if (direct !== undefined && direct !== '') return direct;
  const text = await readEnvFile(env, 'ORCH_REDIS_PASSWORD_FILE', 'password file', {
    secret: true,
    hint: 'Point ORCH_REDIS_PASSWORD_FILE at a file holding the password on its first line.',
  });
  return text?.split('\n')[0]?.trim() || undefined;
}

const PEM = /-----BEGIN [A-Z0-9 ]+-----/;

/**
 * The TLS files of a `rediss://` store (each optional). They are refused for a plain `redis://`
 * store: a CA set up for TLS must not end in a connection without it.
 */
export async function storeTls(env: Env, tls: boolean): Promise<StoreTls | undefined> {
  const given = STORE_TLS_ENV.filter((n) => (env[n] ?? '') !== '');
  if (!tls) {
    if (given.length === 0) return undefined;
    throw new OrchError(
      'ERR_ORCH_STORE_URL',
      `${given.join(' and ')} ${given.length > 1 ? 'are' : 'is'} set, but the store URL is redis:// (no TLS)`,
      {
        hint: 'Write the store URL as rediss://HOST:PORT/DB to use TLS, or unset the ORCH_REDIS_*_FILE variables of TLS.',
      },
    );
  }
  const pem = async (name: (typeof STORE_TLS_ENV)[number], what: string, secret: boolean) => {
    const text = await readEnvFile(env, name, what, {
      secret,
      hint: `Point ${name} at a PEM file (${what}).`,
    });
    if (text !== undefined && !PEM.test(text)) {
      throw new OrchError(
        'ERR_ORCH_STORE_UNREACHABLE',
        `the ${what} ${env[name]} (${name}) is not a PEM file`,
        {
          hint: `Point ${name} at a PEM file (it starts with -----BEGIN …-----).`,
        },
      );
    }
    return text;
  };
  const ca = await pem('ORCH_REDIS_CA_FILE', 'CA certificate file', false);
  const cert = await pem('ORCH_REDIS_CERT_FILE', 'client certificate file', false);
  const key = await pem('ORCH_REDIS_KEY_FILE', 'client key file', true);
  if ((cert === undefined) !== (key === undefined)) {
    throw new OrchError(
      'ERR_ORCH_STORE_UNREACHABLE',
      `mutual TLS needs both ORCH_REDIS_CERT_FILE and ORCH_REDIS_KEY_FILE (only ${cert ? 'the certificate' : 'the key'} is given)`,
      { hint: 'Give the client certificate and its private key, or neither.' },
    );
  }
  return {
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
  };
}

/** The store named by `url` with the password (and, for `rediss://`, the TLS files) from `env`. */
export async function storeFromUrl(url: string, env: Env): Promise<StoreOptions> {
  const addr = parseStoreUrl(url);
  const password = await storePassword(env);
  const tlsFiles = await storeTls(env, addr.tls);
  return {
    ...addr,
    ...(password !== undefined ? { password } : {}),
    ...(tlsFiles !== undefined ? { tlsFiles } : {}),
  };
}

/**
 * Node's TLS options for the store: its certificate checked against the CA and the URL's host (a
 * name through SNI; an address, which SNI cannot carry, against the certificate's IP names).
 */
function tlsOptions(store: StoreOptions) {
  const f = store.tlsFiles ?? {};
  return {
    ...(isIP(store.host) === 0 ? { servername: store.host } : {}),
    rejectUnauthorized: true,
    ...(f.ca !== undefined ? { ca: [f.ca] } : {}),
    ...(f.cert !== undefined ? { cert: f.cert } : {}),
    ...(f.key !== undefined ? { key: f.key } : {}),
  };
}

/** ioredis options for the store (BullMQ needs `maxRetriesPerRequest: null` on its connections). */
export function redisOptions(store: StoreOptions, extra: { forBullmq?: boolean } = {}) {
  return {
    host: store.host,
    port: store.port,
    db: store.db,
    ...(store.password !== undefined ? { password: store.password } : {}),
    ...(store.tls ? { tls: tlsOptions(store) } : {}),
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

const AUTH = /NOAUTH|WRONGPASS|invalid password/i;
/** Certificate checks that failed: the server is not who the CA and the URL say. */
const CERT_REFUSED = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|HOSTNAME_MISMATCH|ERR_TLS_CERT/;
/** A TLS handshake with something that does not speak TLS (or closed it). */
const HANDSHAKE = /ERR_SSL|wrong version|packet length|before secure TLS connection/i;
/** The server ended the connection (a TLS port that got plain text does). */
const CLOSED = /ECONNRESET|EPIPE|Connection is closed|socket hang up/i;

/** OpenSSL's own messages carry the library's file and line: only their reason is said. */
function shortReason(message: string): string {
  const openssl = /:SSL routines:[^:]*:([^:]+):/.exec(message);
  return (openssl?.[1] ?? message.split('\n')[0] ?? message).trim();
}

/** Pure: what a failed connection means, and what to do about it. */
export function describeStoreFailure(
  store: Pick<StoreOptions, 'host' | 'tls' | 'tlsFiles'>,
  e: { code?: string; message: string },
): { why: string; hint: string } {
  const text = `${e.code ?? ''} ${e.message}`;
  const said = shortReason(e.message);
  if (AUTH.test(text))
    return {
      why: 'the password was refused',
      hint: 'Set ORCH_REDIS_PASSWORD (or ORCH_REDIS_PASSWORD_FILE) to the password in redis.conf (requirepass).',
    };
  if (store.tls && /CERTIFICATE_REQUIRED|alert (bad|unknown) certificate/i.test(text))
    return {
      why: store.tlsFiles?.cert
        ? `TLS: the server refused this client's certificate (${said})`
        : `TLS: the server asks for a client certificate and none was given (${said})`,
      hint: 'The server asks for a client certificate: set ORCH_REDIS_CERT_FILE and ORCH_REDIS_KEY_FILE to one its CA (tls-ca-cert-file) signed.',
    };
  if (store.tls && CERT_REFUSED.test(text))
    return {
      why: `TLS: the server's certificate was refused (${said})`,
      hint: `The certificate must be signed by the CA in ORCH_REDIS_CA_FILE${store.tlsFiles?.ca ? '' : ' (not set: the system CAs are used)'} and name ${store.host}, the host of the store URL.`,
    };
  // A plain port waits for a command and never answers a TLS hello: the connect times out.
  if (store.tls && (HANDSHAKE.test(text) || CLOSED.test(text) || /ETIMEDOUT/.test(text)))
    return {
      why: `TLS: no TLS connection came about (${said})`,
      hint: store.tlsFiles?.cert
        ? 'Check that the port is the TLS port of redis-server (tls-port) and that it accepts this client certificate; a plain port needs redis://.'
        : 'Check that the port is the TLS port of redis-server (tls-port); a plain port needs redis://. A server that asks for a client certificate needs ORCH_REDIS_CERT_FILE and ORCH_REDIS_KEY_FILE.',
    };
  if (!store.tls && CLOSED.test(text))
    return {
      why: `the server closed the connection (${said})`,
      hint: 'Check the host and port; a TLS port of redis-server (tls-port) needs a rediss:// URL (and ORCH_REDIS_CA_FILE for a private CA).',
    };
  return {
    why: said,
    hint: 'Check the host and port, and that redis-server runs and accepts connections from here.',
  };
}

/** Opens a connection and checks it with a PING; a failure is ERR_ORCH_STORE_UNREACHABLE. */
export async function connectStore(store: StoreOptions): Promise<Redis> {
  const redis = new Redis(redisOptions(store));
  // ioredis reports errors as events too; the connect promise below is what decides, and the
  // first event says why (a refused certificate, a reset) where the promise only says "closed".
  let first: Error | undefined;
  redis.on('error', (e: Error) => (first ??= e));
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    const thrown = e instanceof Error ? e : new Error(String(e));
    const err = first && !AUTH.test(thrown.message) ? first : thrown;
    const { why, hint } = describeStoreFailure(store, err as Error & { code?: string });
    throw new OrchError(
      'ERR_ORCH_STORE_UNREACHABLE',
      `cannot use the store at ${store.host}:${store.port}/${store.db}: ${why}`,
      { hint, cause: e },
    );
  }
  return redis;
}

/**
 * A store over TLS (`rediss://`) with real parts: the Debian redis-server on a TLS-only port with
 * a CA and certificates made for the test by openssl; orch's connections (a command's, BullMQ's)
 * check the server's certificate against ORCH_REDIS_CA_FILE and the URL's host.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrchError } from '@orch/core';
import { makeTestCa, runStarted, startRedis, type RedisFixture } from '@orch/test-utils';
import { connectStore, redisOptions, storeFromUrl, type StoreOptions } from '../src/connection.js';
import { keysFor } from '../src/keys.js';
import { SupervisorLease } from '../src/lease.js';
import { RedisRunLog } from '../src/run-log.js';

let server: RedisFixture;
let mutual: RedisFixture;
let dir: string;

beforeAll(async () => {
  [server, mutual] = await Promise.all([
    startRedis({ tls: true }),
    startRedis({ tls: { requireClientCert: true } }),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'orch-tls-'));
});
afterAll(async () => {
  await Promise.all([server?.stop(), mutual?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

const tlsOf = (r: RedisFixture) => r.tls as NonNullable<RedisFixture['tls']>;
const envFor = (r: RedisFixture, extra: Record<string, string> = {}) => ({
  ORCH_REDIS_PASSWORD: r.password,
  ORCH_REDIS_CA_FILE: tlsOf(r).ca,
  ...extra,
});

async function refusal(store: Promise<StoreOptions> | StoreOptions): Promise<OrchError> {
  try {
    (await connectStore(await store)).disconnect();
  } catch (e) {
    if (e instanceof OrchError) return e;
    throw e;
  }
  throw new Error('the connection was not refused');
}

describe('a rediss:// store', () => {
  it('with the CA of ORCH_REDIS_CA_FILE: the run log and BullMQ work over TLS', async () => {
    const store = await storeFromUrl(server.url, envFor(server));
    expect(store).toMatchObject({ tls: true, host: '127.0.0.1' });
    expect(store.tlsFiles?.ca).toMatch(/BEGIN CERTIFICATE/);
    const redis = await connectStore(store);
    try {
      const keys = keysFor();
      const run = `r${randomBytes(4).toString('hex')}`;
      const lease = await SupervisorLease.acquire(redis, keys, run, { ttlMs: 5_000 });
      const log = new RedisRunLog(redis, keys, run, { lease, key: randomBytes(32) });
      await log.append(runStarted(['a'], { run }));
      await log.append({ type: 'task.ready', task: 'a' });
      const read = new RedisRunLog(redis, keys, run);
      expect((await read.history()).map((e) => e.type)).toEqual(['run.started', 'task.ready']);
      await lease.release();
    } finally {
      redis.disconnect();
    }

    // BullMQ's own connections (a queue, a worker) take the same TLS options.
    const name = `tls-${randomBytes(3).toString('hex')}`;
    const connection = redisOptions(store, { forBullmq: true });
    const queue = new Queue(name, { connection });
    let worker: Worker | undefined;
    try {
      const done = new Promise<unknown>((resolve, reject) => {
        worker = new Worker(name, async (job) => `echo ${String(job.data.n)}`, { connection });
        worker.on('completed', (_job, result) => resolve(result));
        worker.on('failed', (_job, err) => reject(err));
      });
      await queue.add('job', { n: 7 });
      expect(await done).toBe('echo 7');
    } finally {
      await worker?.close();
      await queue.close();
    }
  });

  it('a certificate from another CA is refused, naming TLS and ORCH_REDIS_CA_FILE', async () => {
    const other = await makeTestCa(join(dir, 'other-ca'), 'someone else');
    const e = await refusal(storeFromUrl(server.url, envFor(server, { ORCH_REDIS_CA_FILE: other.cert })));
    expect(e.code).toBe('ERR_ORCH_STORE_UNREACHABLE');
    expect(e.message).toMatch(/TLS: the server's certificate was refused/);
    expect(e.hint).toContain('ORCH_REDIS_CA_FILE');
  });

  it("the server name is checked: the URL's host must be a name of the certificate", async () => {
    // A certificate for the name localhost only, not for the address 127.0.0.1.
    const misnamed = await startRedis({ tls: { serverNames: ['DNS:localhost'] } });
    try {
      const e = await refusal(storeFromUrl(misnamed.url, envFor(misnamed)));
      expect(e.code).toBe('ERR_ORCH_STORE_UNREACHABLE');
      expect(e.message).toMatch(/TLS: .*127\.0\.0\.1/);
      expect(e.hint).toContain('name 127.0.0.1');
      // The CA is the right one, only the name failed: through the name it carries, it connects.
      const named = await storeFromUrl(misnamed.url.replace('127.0.0.1', 'localhost'), envFor(misnamed));
      const redis = await connectStore(named);
      expect(await redis.ping()).toBe('PONG');
      redis.disconnect();
    } finally {
      await misnamed.stop();
    }
  });

  it('a plain redis:// URL to the TLS port fails clearly, and so do TLS files with redis://', async () => {
    const plainUrl = server.url.replace('rediss://', 'redis://');
    const e = await refusal(storeFromUrl(plainUrl, { ORCH_REDIS_PASSWORD: server.password }));
    expect(e.code).toBe('ERR_ORCH_STORE_UNREACHABLE');
    expect(e.message).toMatch(/closed the connection/);
    expect(e.hint).toContain('rediss://');
    // A CA set up for TLS never ends in a connection without it.
    await expect(storeFromUrl(plainUrl, envFor(server))).rejects.toMatchObject({
      code: 'ERR_ORCH_STORE_URL',
      message: expect.stringContaining('ORCH_REDIS_CA_FILE is set, but the store URL is redis://'),
    });
  });

  it('mutual TLS: the client certificate from ORCH_REDIS_CERT_FILE and an owner-only ORCH_REDIS_KEY_FILE', async () => {
    const files = tlsOf(mutual);
    // Without a client certificate the server ends the handshake.
    const none = await refusal(storeFromUrl(mutual.url, envFor(mutual)));
    expect(none.code).toBe('ERR_ORCH_STORE_UNREACHABLE');
    // The alert, or (TLS 1.3 ends the handshake first) the reset that follows it.
    expect(none.message).toMatch(
      /TLS: (the server asks for a client certificate|no TLS connection came about)/,
    );
    expect(none.hint).toContain('ORCH_REDIS_CERT_FILE');

    const withCert = envFor(mutual, {
      ORCH_REDIS_CERT_FILE: files.clientCert,
      ORCH_REDIS_KEY_FILE: files.clientKey,
    });
    const redis = await connectStore(await storeFromUrl(mutual.url, withCert));
    expect(await redis.ping()).toBe('PONG');
    redis.disconnect();

    // A key others can read, or a certificate without its key, is refused before any connection.
    await chmod(files.clientKey, 0o644);
    try {
      await expect(storeFromUrl(mutual.url, withCert)).rejects.toMatchObject({
        code: 'ERR_ORCH_STORE_UNREACHABLE',
        message: expect.stringContaining('is readable by others'),
      });
    } finally {
      await chmod(files.clientKey, 0o600);
    }
    await expect(
      storeFromUrl(mutual.url, envFor(mutual, { ORCH_REDIS_CERT_FILE: files.clientCert })),
    ).rejects.toMatchObject({
      message: expect.stringContaining('needs both ORCH_REDIS_CERT_FILE and ORCH_REDIS_KEY_FILE'),
    });
    await expect(
      storeFromUrl(mutual.url, envFor(mutual, { ORCH_REDIS_CA_FILE: join(dir, 'missing.pem') })),
    ).rejects.toMatchObject({ message: expect.stringContaining('(ORCH_REDIS_CA_FILE) does not exist') });
  });
});

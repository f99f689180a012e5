/**
 * An orch command on a store over TLS: `orch hosts --store rediss://…` against the Debian
 * redis-server on a TLS-only port, with the CA from ORCH_REDIS_CA_FILE (files, never argv).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCa, startRedis, type RedisFixture } from '@orch/test-utils';
import { orchInProcess } from './in-process.js';

let redis: RedisFixture;
let dir: string;

beforeAll(async () => {
  redis = await startRedis({ tls: true });
  dir = await mkdtemp(join(tmpdir(), 'orch-tls-cli-'));
});
afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('orch hosts --store rediss://', () => {
  it('lists the hosts over TLS with the CA of ORCH_REDIS_CA_FILE, and names TLS when the CA is wrong', async () => {
    const env = { ORCH_REDIS_PASSWORD: redis.password, ORCH_REDIS_CA_FILE: redis.tls?.ca ?? '' };
    const ok = await orchInProcess(['hosts', '--store', redis.url, '--json'], { cwd: dir, env });
    expect({ exit: ok.exitCode, stderr: ok.stderr }).toEqual({ exit: 0, stderr: '' });
    expect(JSON.parse(ok.stdout)).toEqual([]);

    const other = await makeTestCa(join(dir, 'other'), 'another CA');
    const bad = await orchInProcess(['hosts', '--store', redis.url], {
      cwd: dir,
      env: { ...env, ORCH_REDIS_CA_FILE: other.cert },
    });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toContain('ERR_ORCH_STORE_UNREACHABLE');
    expect(bad.stderr).toMatch(/TLS: the server's certificate was refused/);
    expect(bad.stderr).not.toContain(redis.password);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace without ORCH_DEBUG
  });
});

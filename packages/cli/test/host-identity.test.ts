/**
 * A worker host's identity from the CLI (in process, real files and a real Redis): `orch host
 * --identity` makes and prints it, `orch hosts` says whether the config here trusts each host, and
 * a distributed run trusting no host is refused before anything is made.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStore, keysFor, storeFromUrl } from '@orch/distributed';
import { startRedis, tempRepo, writerTaskYaml, type RedisFixture, type TempRepo } from '@orch/test-utils';
import { openDistributed } from '../src/commands/run/distributed.js';
import { orchInProcess } from './in-process.js';

let dir: string;
let redis: RedisFixture;
let repo: TempRepo;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orch-cli-hostid-'));
  redis = await startRedis();
  repo = await tempRepo({ 'README.md': '# app\n', 'tasks.yaml': `tasks:${writerTaskYaml('a', [])}\n` });
});
afterAll(async () => {
  await repo?.cleanup();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

const identity = async (name: string, ...more: string[]) =>
  orchInProcess(['host', '--identity', '--workdir', join(dir, name), '--name', name, ...more], { cwd: dir });

describe('orch host --identity', () => {
  it('makes the identity once and prints the same line after; --json too', async () => {
    const first = await identity('h1');
    expect(first.exitCode).toBe(0);
    const line = first.stdout.trim();
    expect(line).toMatch(/^orch-host-v1:[A-Za-z0-9_-]{43}:[A-Za-z0-9_-]{43}:h1$/);
    expect(first.stderr).toContain('add it to store.trusted_hosts');
    expect((await identity('h1')).stdout.trim()).toBe(line);
    expect(JSON.parse((await identity('h1', '--json')).stdout)).toEqual({ name: 'h1', identity: line });
    expect((await identity('h2')).stdout.trim()).not.toBe(line.replace(/h1$/, 'h2'));
  });

  it('refuses a key file others can read, with the chmod to run', async () => {
    await identity('h3');
    const key = join(dir, 'h3', 'identity', 'box.key');
    await chmod(key, 0o640);
    const r = await identity('h3');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('ERR_ORCH_HOST_IDENTITY');
    expect(r.stderr).toContain(`chmod 600 ${key}`);
    expect(r.stdout).toBe('');
  });

  it('serving needs a store and a remote', async () => {
    const r = await orchInProcess(['host', '--workdir', join(dir, 'h4')], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--store');
    expect(existsSync(join(dir, 'h4'))).toBe(false);
  });
});

describe('trusted hosts', () => {
  it('orch hosts says which host the config here trusts (unknown with no config)', async () => {
    const env = { ORCH_REDIS_PASSWORD: redis.password };
    const conn = await connectStore(await storeFromUrl(redis.url, env));
    const keys = keysFor('orch');
    const lines = { h1: (await identity('h1')).stdout.trim(), h2: (await identity('h2')).stdout.trim() };
    try {
      for (const [name, line] of Object.entries(lines)) {
        // What a host's heartbeat publishes (host.ts), for two live hosts.
        await conn.hset(keys.host(name), {
          name,
          slots: '1',
          active: '0',
          startedAt: new Date().toISOString(),
          beatAt: String(Date.now()),
          identity: line,
          ...(name === 'h2' ? { gaveBack: 'run r1 does not trust this host' } : {}),
        });
        await conn.sadd(keys.hosts(), name);
      }
      await writeFile(join(repo.root, 'orch.yaml'), `store:\n  trusted_hosts:\n    h1: ${lines.h1}\n`);
      const here = await orchInProcess(['hosts', '--store', redis.url, '--json'], { cwd: repo.root, env });
      expect(here.exitCode).toBe(0);
      const list = JSON.parse(here.stdout) as { name: string; trusted: string; gaveBack?: string }[];
      expect(list.map((h) => [h.name, h.trusted, h.gaveBack])).toEqual([
        ['h1', 'yes', undefined],
        ['h2', 'no', 'run r1 does not trust this host'],
      ]);
      const table = await orchInProcess(['hosts', '--store', redis.url], { cwd: repo.root, env });
      expect(table.stdout).toMatch(/h2 .* no +gave a job back: run r1 does not trust this host/);
      const nowhere = await orchInProcess(['hosts', '--store', redis.url, '--json'], { cwd: dir, env });
      expect((JSON.parse(nowhere.stdout) as { trusted: string }[]).map((h) => h.trusted)).toEqual([
        'unknown',
        'unknown',
      ]);
    } finally {
      conn.disconnect();
    }
  });

  it('a distributed run with no trusted host is refused before anything is made; a bad identity names its key', async () => {
    // What `orch run --store --remote` opens first (it reads the config of the repository it runs in).
    const choice = { store: redis.url, remote: `file://${dir}/none.git` };
    const env = { ORCH_REDIS_PASSWORD: redis.password };
    await writeFile(join(repo.root, 'orch.yaml'), 'store:\n  trusted_hosts: {}\n');
    await expect(openDistributed(repo.root, choice, env)).rejects.toMatchObject({
      code: 'ERR_ORCH_HOST_UNTRUSTED',
      hint: expect.stringContaining('orch host --identity'),
    });
    await writeFile(join(repo.root, 'orch.yaml'), 'store:\n  trusted_hosts:\n    h1: orch-host-v1:nope:h1\n');
    await expect(openDistributed(repo.root, choice, env)).rejects.toMatchObject({
      code: 'ERR_ORCH_CONFIG_INVALID',
      message: expect.stringContaining('store.trusted_hosts.h1: not a host identity'),
    });
    expect(existsSync(join(repo.root, '.orchestrator'))).toBe(false);
    // Trusting a host, the run opens (its store is reached).
    const line = (await identity('h1')).stdout.trim();
    await writeFile(join(repo.root, 'orch.yaml'), `store:\n  trusted_hosts:\n    h1: ${line}\n`);
    const opened = await openDistributed(repo.root, choice, env);
    await opened?.dist.close();
    expect(opened).toBeDefined();
  });
});

import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, withFileLock, type LockOwner } from '../src/lock/file-lock.js';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
/** Runs a fixture script (which imports the built core) in its own Node process. */
const fixtureScript = (name: string): Promise<string> => Promise.resolve(join(fixtures, name));
const runFixture = (name: string, args: string[]) =>
  promisify(execFile)(process.execPath, [join(fixtures, name), ...args], { timeout: 120_000 });
async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'orch-lock-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

/** A pid that belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  return child.pid ?? 999_999;
}

describe('withFileLock', () => {
  it('serializes read-modify-write across 8 processes', async () => {
    const lock = join(dir, 'counter.lock');
    const counter = join(dir, 'counter');
    await Promise.all(Array.from({ length: 8 }, () => runFixture('lock-counter.mjs', [lock, counter, '40'])));
    expect(await readFile(counter, 'utf8')).toBe('320');
  });

  it('records its owner while held and removes the file after', async () => {
    const lock = join(dir, 'x.lock');
    const owner = await withFileLock(
      lock,
      async () => JSON.parse(await readFile(lock, 'utf8')) as LockOwner,
      {
        purpose: 'testing',
      },
    );
    expect(owner).toMatchObject({ pid: process.pid, host: hostname(), purpose: 'testing' });
    await expect(readFile(lock)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('releases the lock when fn throws', async () => {
    const lock = join(dir, 'x.lock');
    await expect(withFileLock(lock, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await withFileLock(lock, () => 'again', { timeoutMs: 0 })).toBe('again');
  });

  it('breaks and reports a lock whose owner process is dead', async () => {
    const lock = join(dir, 'x.lock');
    const dead: LockOwner = {
      pid: await deadPid(),
      host: hostname(),
      token: 't',
      at: '2020-01-01T00:00:00Z',
    };
    await writeFile(lock, JSON.stringify(dead));
    const broken: (LockOwner | undefined)[] = [];
    const v = await withFileLock(lock, () => 42, { timeoutMs: 1000, onBroken: (o) => broken.push(o) });
    expect(v).toBe(42);
    expect(broken).toEqual([dead]);
  });

  it('times out on a lock held by a live process', async () => {
    const lock = join(dir, 'x.lock');
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), token: 't', at: 'now' }));
    await expect(withFileLock(lock, () => 1, { timeoutMs: 100 })).rejects.toMatchObject({
      code: 'ERR_ORCH_LOCK_TIMEOUT',
    });
  });
});

describe('acquireLock', () => {
  it('fails with ERR_ORCH_RUN_LOCKED while another live process holds it, and succeeds after it dies', async () => {
    const lock = join(dir, 'supervisor.lock');
    const child = spawn(process.execPath, [await fixtureScript('hold-lock.mjs'), lock], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
        child.on('exit', () => reject(new Error('holder exited early')));
      });
      await expect(acquireLock(lock)).rejects.toMatchObject({
        code: 'ERR_ORCH_RUN_LOCKED',
        details: { owner: { pid: child.pid } },
      });
    } finally {
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    const held = await acquireLock(lock);
    expect(held.broke?.pid).toBe(child.pid);
    await held.release();
    await expect(readFile(lock)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('release does not remove a lock that someone else now owns', async () => {
    const lock = join(dir, 'x.lock');
    const held = await acquireLock(lock);
    const other = JSON.stringify({ pid: process.pid, host: hostname(), token: 'other', at: 'now' });
    await writeFile(lock, other);
    await held.release();
    expect(await readFile(lock, 'utf8')).toBe(other);
  });
});

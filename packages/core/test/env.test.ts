import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCKFILE_NAMES, envHashFromFiles, isLockfile } from '../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orch-env-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const put = async (rel: string, content: string): Promise<void> => {
  await mkdir(join(dir, rel, '..'), { recursive: true });
  await writeFile(join(dir, rel), content);
};

describe('lockfiles', () => {
  it('knows the seed list plus bun, Pipfile and NuGet lockfiles, at any depth', () => {
    for (const n of [
      'uv.lock',
      'poetry.lock',
      'pnpm-lock.yaml',
      'go.sum',
      'bun.lock',
      'bun.lockb',
      'Pipfile.lock',
      'packages.lock.json',
    ]) {
      expect(LOCKFILE_NAMES).toContain(n);
      expect(isLockfile(`packages/x/${n}`)).toBe(true);
    }
    expect(isLockfile('package.json')).toBe(false);
    expect(isLockfile('docs/yarn.lock.md')).toBe(false);
  });
});

describe('envHashFromFiles', () => {
  it('is no-lock without lockfiles', async () => {
    await put('README.md', 'x');
    expect(await envHashFromFiles(dir, ['README.md'])).toEqual({ hash: 'no-lock', lockfiles: [] });
  });

  it('covers nested lockfiles, sorted, and changes when any of them changes', async () => {
    await put('pnpm-lock.yaml', 'a');
    await put('services/api/poetry.lock', 'b');
    const files = ['services/api/poetry.lock', 'src/x.ts', 'pnpm-lock.yaml'];
    const first = await envHashFromFiles(dir, files);
    expect(first.lockfiles).toEqual(['pnpm-lock.yaml', 'services/api/poetry.lock']);
    expect(first.hash).toMatch(/^[0-9a-f]{16}$/);
    expect((await envHashFromFiles(dir, [...files].reverse())).hash).toBe(first.hash);
    await put('services/api/poetry.lock', 'c');
    expect((await envHashFromFiles(dir, files)).hash).not.toBe(first.hash);
  });

  it('frames each file by path and length so moved bytes never collide', async () => {
    await put('a/yarn.lock', 'xy');
    await put('b/yarn.lock', '');
    const one = await envHashFromFiles(dir, ['a/yarn.lock', 'b/yarn.lock']);
    await put('a/yarn.lock', 'x');
    await put('b/yarn.lock', 'y');
    const two = await envHashFromFiles(dir, ['a/yarn.lock', 'b/yarn.lock']);
    expect(one.hash).not.toBe(two.hash);
  });

  it('skips listed lockfiles that are missing on disk', async () => {
    await put('go.sum', 'g');
    expect((await envHashFromFiles(dir, ['go.sum', 'gone/Cargo.lock'])).lockfiles).toEqual(['go.sum']);
  });
});

import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workerBinPath } from '../src/assets.js';

const CLI = join('packages', 'cli', 'dist', 'bin.js');
const BUNDLE = join('packages', 'orch', 'dist', 'bin.js');

/** A folder laid out like a working copy of orch: the cli's build, packages' build info, maybe a bundle. */
async function workingCopy(root: string, files: string[]): Promise<void> {
  const all = ['package.json', CLI, 'packages/core/dist/.tsbuildinfo', ...files];
  for (const path of all) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), path === 'package.json' ? JSON.stringify({ bin: { orch: CLI } }) : '');
  }
}

/** Sets a file's modification time `secondsAgo` in the past. */
async function age(file: string, secondsAgo: number): Promise<void> {
  const t = new Date(Date.now() - secondsAgo * 1000);
  await utimes(file, t, t);
}

describe("the orch entry point of the workers' processes", () => {
  let root: string;
  // The test setup pins workers to the build (ORCH_WORKER_BUNDLE=0); these tests choose for real.
  const pinned = process.env.ORCH_WORKER_BUNDLE;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'orch-worker-bin-'));
    delete process.env.ORCH_WORKER_BUNDLE;
  });
  afterEach(async () => {
    if (pinned === undefined) delete process.env.ORCH_WORKER_BUNDLE;
    else process.env.ORCH_WORKER_BUNDLE = pinned;
    await rm(root, { recursive: true, force: true });
  });

  it('is the bundle when it was made after every package was built', async () => {
    await workingCopy(root, [BUNDLE]);
    await age(join(root, 'packages/core/dist/.tsbuildinfo'), 60);
    expect(workerBinPath(join(root, CLI), root)).toBe(join(root, BUNDLE));
  });

  it('is the cli build when a package was built after the bundle (the bundle is stale)', async () => {
    await workingCopy(root, [BUNDLE]);
    await age(join(root, BUNDLE), 60);
    expect(workerBinPath(join(root, CLI), root)).toBe(join(root, CLI));
  });

  it('is the cli build without a bundle, and any other entry point as given', async () => {
    await workingCopy(root, []);
    expect(workerBinPath(join(root, CLI), root)).toBe(join(root, CLI));
    await writeFile(join(root, 'other.js'), '');
    expect(workerBinPath(join(root, 'other.js'), root)).toBe(join(root, 'other.js'));
  });

  it('is the cli build with ORCH_WORKER_BUNDLE=0, even when the bundle is fresh', async () => {
    await workingCopy(root, [BUNDLE]);
    await age(join(root, 'packages/core/dist/.tsbuildinfo'), 60);
    process.env.ORCH_WORKER_BUNDLE = '0';
    expect(workerBinPath(join(root, CLI), root)).toBe(join(root, CLI));
  });
});

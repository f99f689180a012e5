import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contractTemplatesDir } from '@orch/core';
import { assetsRoot, orchBinPath } from '../src/assets.js';

/** A folder laid out like the installed `orch` package. */
async function fakePackage(root: string, manifest: unknown, withBin = true): Promise<void> {
  const files: Record<string, string> = {
    'roles/worker.md': '# worker\n',
    'skills/orchestrate/SKILL.md': '# skill\n',
    'package.json': JSON.stringify(manifest),
    ...(withBin ? { 'dist/bin.js': '#!/usr/bin/env node\n' } : {}),
  };
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
}

describe('where orch finds its own files', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'orch-assets-'));
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('in the working copy: the repository root, and the cli package build as the binary', async () => {
    const root = assetsRoot();
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { private?: boolean };
    expect(manifest.private).toBe(true);
    expect(orchBinPath()).toBe(join(root, 'packages', 'cli', 'dist', 'bin.js'));
    expect(existsSync(join(contractTemplatesDir(), 'typescript.ts.tmpl'))).toBe(true);
    expect(contractTemplatesDir()).toBe(join(root, 'contracts-templates'));
  });

  it('in an installed package: the package root from any folder below it, and its bin.orch', async () => {
    await fakePackage(tmp, { name: 'orch', bin: { orch: './dist/bin.js' } });
    expect(assetsRoot(join(tmp, 'dist'))).toBe(tmp);
    expect(orchBinPath(tmp)).toBe(join(tmp, 'dist', 'bin.js'));
  });

  it('refuses a package whose manifest names no orch binary, or whose binary is missing', async () => {
    await fakePackage(tmp, { name: 'orch' });
    expect(() => orchBinPath(tmp)).toThrow(expect.objectContaining({ code: 'ERR_ORCH_ASSETS_NOT_FOUND' }));
    await fakePackage(tmp, { name: 'orch', bin: { orch: './dist/bin.js' } }, false);
    await rm(join(tmp, 'dist'), { recursive: true, force: true });
    expect(() => orchBinPath(tmp)).toThrow(expect.objectContaining({ code: 'ERR_ORCH_NOT_BUILT' }));
  });

  it('says so when nothing above a folder holds the shipped files', () => {
    expect(() => assetsRoot(tmp)).toThrow(expect.objectContaining({ code: 'ERR_ORCH_ASSETS_NOT_FOUND' }));
  });
});

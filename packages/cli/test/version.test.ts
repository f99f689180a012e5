import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findAssetsRoot } from '../src/commands/install/assets.js';
import { VERSION } from '../src/version.js';

const root = findAssetsRoot();
const versionOf = async (file: string): Promise<string> =>
  (JSON.parse(await readFile(join(root, file), 'utf8')) as { version: string }).version;

describe('orch --version', () => {
  it('comes from package.json, and the npm package and the plugin carry the same version', async () => {
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(VERSION).toBe(await versionOf('packages/cli/package.json'));
    expect(await versionOf('packages/orch/package.json')).toBe(VERSION);
    expect(await versionOf('.claude-plugin/plugin.json')).toBe(VERSION);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findConflicts, installCommand, packageName } from '../src/deps.js';

describe('dependency requests', () => {
  it('reads package names from npm, scoped, python and cargo specs', () => {
    expect(packageName('lodash@4')).toBe('lodash');
    expect(packageName('@scope/pkg@^1.2')).toBe('@scope/pkg');
    expect(packageName('@scope/pkg')).toBe('@scope/pkg');
    expect(packageName('requests==2.31')).toBe('requests');
    expect(packageName('rand>=0.8')).toBe('rand');
  });

  it('reports two tasks asking for different versions of one package, and nothing else', () => {
    const conflicts = findConflicts([
      { task: 'a', spec: 'lodash@4' },
      { task: 'b', spec: 'lodash@3' },
      { task: 'c', spec: 'zod@4' },
      { task: 'd', spec: 'zod@4' },
    ]);
    expect(conflicts).toEqual([
      {
        name: 'lodash',
        requests: [
          { task: 'a', spec: 'lodash@4' },
          { task: 'b', spec: 'lodash@3' },
        ],
      },
    ]);
  });

  it("picks the project's package manager and refuses specs that could be options or shell", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orch-deps-'));
    try {
      await writeFile(join(dir, 'package.json'), '{}');
      expect(installCommand(dir, ['lodash@4'])).toEqual([
        'npm',
        'install',
        '--save',
        '--no-audit',
        '--no-fund',
        'lodash@4',
      ]);
      await writeFile(join(dir, 'pnpm-lock.yaml'), '');
      expect(installCommand(dir, ['lodash@4'])).toEqual(['pnpm', 'add', 'lodash@4']);
      expect(() => installCommand(dir, ['--registry=http://evil'])).toThrow(
        /ERR_ORCH_DEPS_BAD_SPEC|not a package spec/,
      );
      expect(() => installCommand(dir, ['x; rm -rf /'])).toThrow(/not a package spec/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

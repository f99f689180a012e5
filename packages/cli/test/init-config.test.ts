import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonSchemaText, schemaModeline } from '@orch/core';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { orchInProcess as runOrch } from './in-process.js';
import { VERSION } from '../src/version.js';

let repo: TempRepo | undefined;
afterEach(async () => {
  await repo?.cleanup();
  repo = undefined;
});

describe('orch init', () => {
  it('writes a commented config and a sample plan that checks, with the detected test command and package manager', async () => {
    repo = await tempRepo({
      'package.json': JSON.stringify({ name: 'x', scripts: { test: 'vitest run' } }),
      'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
    });
    const r = await runOrch(['init', '--json'], { cwd: repo.root });
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { files: string[]; detected: Record<string, string> };
    expect(out.files).toEqual([join(repo.root, 'orch.yaml'), join(repo.root, 'tasks.yaml')]);
    expect(out.detected).toEqual({ test: 'pnpm test', packageManager: 'pnpm' });
    const config = await readFile(join(repo.root, 'orch.yaml'), 'utf8');
    const plan = await readFile(join(repo.root, 'tasks.yaml'), 'utf8');
    expect(config.split('\n')[0]).toBe(schemaModeline('config', VERSION));
    expect(plan.split('\n')[0]).toBe(schemaModeline('plan', VERSION));
    expect(config).toContain('integration_command: "pnpm test"');
    expect(plan).toContain('- command: "pnpm test"');
    // The plan is valid as written, and the config is read without a warning.
    const check = await runOrch(['plan', 'check', '--json'], { cwd: repo.root });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(JSON.parse(check.stdout).config_warnings).toEqual([]);
    const shown = await runOrch(['config', '--json'], { cwd: repo.root });
    const values = (JSON.parse(shown.stdout) as { values: { key: string; from: string }[] }).values;
    expect(values.find((v) => v.key === 'verification.integration_command')?.from).toMatch(
      /^orch\.yaml:\d+:3$/,
    );
  });

  it('refuses to overwrite: any config file or tasks.yaml present means nothing is written', async () => {
    repo = await tempRepo({ 'README.md': '# x\n', '.claude-agents.yaml': 'agents:\n  default: shell\n' });
    const r = await runOrch(['init'], { cwd: repo.root });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('ERR_ORCH_INIT_EXISTS');
    expect(r.stderr).toContain('.claude-agents.yaml already exists');
    expect(r.stderr).toMatch(/hint: /);
    expect(await repo.git('status', '--porcelain')).toBe('');
    await writeFile(join(repo.root, 'tasks.yaml'), 'mine\n');
    await repo.git('rm', '-q', '.claude-agents.yaml');
    const again = await runOrch(['init', '--json'], { cwd: repo.root });
    expect(JSON.parse(again.stdout).error.code).toBe('ERR_ORCH_INIT_EXISTS');
    expect(await readFile(join(repo.root, 'tasks.yaml'), 'utf8')).toBe('mine\n');
    expect(await repo.git('status', '--porcelain', '--', 'orch.yaml')).toBe('');
  });
});

describe('orch config and orch schema', () => {
  it('orch config names the file and the place of each value set, the default for the others', async () => {
    repo = await tempRepo({
      'orch.yaml': 'merge:\n  strategy: merge\n',
      '.claude-agents.yaml': 'merge:\n  strategy: squash\n',
    });
    const r = await runOrch(['config'], { cwd: repo.root });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^config: orch\.yaml$/m);
    expect(r.stdout).toMatch(/merge\.strategy +"merge" +\(orch\.yaml:2:3\)/);
    expect(r.stdout).toMatch(/orchestration\.max_parallel_workers +5 +\(default\)/);
    expect(r.stderr).toContain('warning: .claude-agents.yaml is not read: orch.yaml comes first');
  });

  it('orch schema prints what the code generates, the same text as the shipped files', async () => {
    repo = await tempRepo();
    for (const name of ['plan', 'config'] as const) {
      const r = await runOrch(['schema', name], { cwd: repo.root });
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(`${jsonSchemaText(name).trimEnd()}\n`);
    }
    const bad = await runOrch(['schema', 'nope'], { cwd: repo.root });
    expect(bad.exitCode).toBe(2);
  });
});

import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { orchInProcess } from './in-process.js';

let repo: TempRepo;
// In-process: the same program and printing as the binary, without starting node for each call.
const orch = (...args: string[]) => orchInProcess(args, { cwd: repo.root });
const json = (s: string): Record<string, unknown> => JSON.parse(s) as Record<string, unknown>;

const task = (id: string, extra = ''): string =>
  `  - id: ${id}\n    verification: [{command: "npm test", type: test}]\n${extra}`;

beforeAll(async () => {
  repo = await tempRepo({
    'README.md': '# x\n',
    'ok.yaml': `tasks:\n${task('a', '    files_write: [src/a.ts]\n')}${task('b', '    files_write: [src/b.ts]\n    depends_on: [a]\n')}`,
    'cycle.yaml': `tasks:\n${task('a', '    depends_on: [b]\n')}${task('b', '    depends_on: [a]\n')}`,
    'unknown.yaml': `tasks:\n${task('a', '    depends_on: [zz]\n')}${task('b')}`,
    'conflict.yaml': `tasks:\n${task('a', '    files_write: ["src/**"]\n')}${task('b', '    files_write: [src/a.ts]\n')}`,
    'risky.yaml': `tasks:\n${task('a', '    files_write: [src/auth/login.ts, config/production.yaml]\n')}`,
    'typo.yaml': `tasks:\n  - id: a\n    fiels_write: [x]\n    verification: [{command: t}]\n`,
    'strict.yaml': 'risk:\n  auto_approve_threshold: 0\n',
    'reserved.yaml': `tasks:\n${task('staging')}${task('b', '    files_write: [src/b.ts, .orchestrator/runs/x.json, wt/b/x.ts]\n')}`,
    'wt.yaml': 'orchestration:\n  worktree_dir: wt\n',
  });
});
afterAll(async () => repo.cleanup());

describe('orch dag', () => {
  it('prints waves and the critical path', async () => {
    const r = await orch('dag', 'ok.yaml');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Wave 1: a');
    expect(r.stdout).toContain('Wave 2: b');
    expect(r.stdout).toContain('Critical path (2): a → b');
    const j = json((await orch('dag', 'ok.yaml', '--json')).stdout);
    expect(j).toMatchObject({
      valid: true,
      waves: [['a'], ['b']],
      total_waves: 2,
      total_tasks: 2,
      critical_path: ['a', 'b'],
    });
  });
  it('prints a cycle as its path and exits 1', async () => {
    const r = await orch('dag', 'cycle.yaml');
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('Circular dependency detected: a → b → a');
    expect(json((await orch('dag', 'cycle.yaml', '--json')).stdout).cycle).toEqual(['a', 'b', 'a']);
  });
  it('lists unknown dependencies with the known ids', async () => {
    const r = await orch('dag', 'unknown.yaml', '--json');
    expect(r.exitCode).toBe(1);
    expect(json(r.stdout).errors).toEqual([
      "unknown.yaml:4:18: Task 'a' depends on 'zz' which does not exist. Known task IDs: ['a', 'b']",
    ]);
  });
});

describe('orch conflicts', () => {
  it('reports glob conflicts with a suggested edge and exits 1', async () => {
    const r = await orch('conflicts', 'conflict.yaml');
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('[FILE_WRITE_WRITE] src/a.ts');
    expect(r.stdout).toContain('Fix: Add dependency: b depends_on [a]');
    const j = json((await orch('conflicts', 'conflict.yaml', '--json')).stdout);
    expect(j.count).toBe(1);
    expect(Object.keys((j.conflicts as object[])[0] as object)).toEqual([
      'type',
      'target',
      'tasks',
      'detail',
      'suggestion',
    ]);
  });
  it('exits 0 without conflicts', async () => {
    const r = await orch('conflicts', 'ok.yaml');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('No conflicts detected');
  });
});

describe('orch risk', () => {
  it('exits 0 when auto-approved and 3 when it needs approval', async () => {
    expect((await orch('risk', 'ok.yaml')).exitCode).toBe(0);
    const r = await orch('risk', 'risky.yaml', '--json');
    expect(r.exitCode).toBe(3);
    expect(json(r.stdout)).toEqual({
      score: 50,
      factors: ['sensitive_path:src/auth/login.ts:auth', 'sensitive_path:config/production.yaml:prod'],
      auto_approve: false,
      auto_approve_threshold: 25,
      status: 'REQUIRES REVIEW',
    });
    const text = await orch('risk', 'risky.yaml');
    expect(text.stdout).toContain('Risk Score: 50 (REQUIRES REVIEW)');
    expect(text.stdout).toContain('Human review recommended');
  });
  it('reads --config, and a missing --config is an error', async () => {
    const r = await orch('risk', 'ok.yaml', '--config', 'strict.yaml', '--json');
    expect(r.exitCode).toBe(0); // score 0 <= 0
    const missing = await orch('risk', 'ok.yaml', '--config', 'nope.yaml');
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('ERR_ORCH_CONFIG_NOT_FOUND');
    expect(missing.stderr).not.toContain('    at ');
  });
});

describe('orch plan', () => {
  it('check reports every section in one JSON report', async () => {
    const r = await orch('plan', 'check', 'conflict.yaml', '--json');
    expect(r.exitCode).toBe(1);
    const j = json(r.stdout);
    expect(Object.keys(j)).toEqual([
      'ok',
      'exitCode',
      'schema',
      'dag',
      'conflicts',
      'risk',
      'contracts',
      'config_warnings',
    ]);
    expect(j).toMatchObject({ ok: false, exitCode: 1, conflicts: { count: 1 } });
    expect((await orch('plan', 'check', 'risky.yaml')).exitCode).toBe(3);
    expect((await orch('plan', 'check', 'ok.yaml', '--config', 'strict.yaml')).exitCode).toBe(0);
  });
  it('check prints schema errors with file:line:col and a did-you-mean', async () => {
    const r = await orch('plan', 'check', 'typo.yaml');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      'typo.yaml:3:5: tasks[0].fiels_write: unknown field "fiels_write" (did you mean "files_write"?)',
    );
    const j = json((await orch('plan', 'check', 'typo.yaml', '--json')).stdout);
    expect(j).toMatchObject({
      ok: false,
      exitCode: 1,
      schema: { valid: false, issues: [{ line: 3, column: 5 }] },
    });
  });
  it("check refuses reserved task ids and writes into orch's folders, with file:line:col", async () => {
    const r = await orch('plan', 'check', 'reserved.yaml', '--config', 'wt.yaml');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('ERR_ORCH_PLAN_INVALID');
    expect(r.stderr).toContain(
      'reserved.yaml:2:9: tasks[0].id: task id "staging" is reserved for orch\'s own refs and folders (reserved: staging, archive, integration, tasks, work, supervisor, user, all, orch',
    );
    expect(r.stderr).toContain(
      'reserved.yaml:6:29: tasks[1].files_write[1]: path ".orchestrator/runs/x.json" is inside .orchestrator/',
    );
    expect(r.stderr).toContain('tasks[1].files_write[2]: path "wt/b/x.ts" is inside wt/');
    const j = json((await orch('plan', 'check', 'reserved.yaml', '--json')).stdout);
    // With the default worktree folder `wt/` is an ordinary path.
    expect((j.schema as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual([
      'tasks[0].id',
      'tasks[1].files_write[1]',
    ]);
  });
  it('a missing plan file is a clear error', async () => {
    const r = await orch('plan', 'check', 'nope.yaml');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('ERR_ORCH_PLAN_NOT_FOUND');
  });
  it('without a request or subcommand shows its help with exit 2', async () => {
    const r = await orch('plan');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('Usage: orch plan');
    expect(r.stderr).toContain('check [options] [plan]');
  });
  it('every analyzer command has help with an example', async () => {
    for (const cmd of [
      ['plan', 'check'],
      ['dag'],
      ['conflicts'],
      ['risk'],
      ['env', 'hash'],
      ['env', 'verify'],
      ['contracts', 'gen'],
      ['contracts', 'check'],
    ]) {
      const r = await orch(...cmd, '--help');
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain('$ orch ');
    }
  });
});

describe('orch env', () => {
  it('hashes tracked lockfiles (nested too), verifies, and says no-lock without any', async () => {
    const none = json((await orch('env', 'hash', '--json')).stdout);
    expect(none).toEqual({ hash: 'no-lock', lockfiles: [] });
    await repo.write('pnpm-lock.yaml', 'lockfileVersion: 9\n');
    await repo.write('services/api/uv.lock', 'version = 1\n');
    await repo.write('untracked/yarn.lock', 'x');
    await repo.git('add', 'pnpm-lock.yaml', 'services/api/uv.lock');
    const r = json((await orch('env', 'hash', '--json')).stdout) as { hash: string; lockfiles: string[] };
    expect(r.lockfiles).toEqual(['pnpm-lock.yaml', 'services/api/uv.lock']);
    expect(r.hash).toMatch(/^[0-9a-f]{16}$/);
    const text = await orch('env', 'hash');
    expect(text.stdout).toContain(`Environment hash: ${r.hash}`);
    expect((await orch('env', 'verify', r.hash)).exitCode).toBe(0);
    const bad = await orch('env', 'verify', '0000000000000000', '--json');
    expect(bad.exitCode).toBe(1);
    expect(json(bad.stdout)).toMatchObject({ match: false, expected: '0000000000000000', actual: r.hash });
  });
  it('outside a repository it is a clear error', async () => {
    const r = await orchInProcess(['env', 'hash'], { cwd: '/' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('ERR_ORCH_NOT_A_REPO');
  });
});

describe('orch contracts', () => {
  it('gen writes a stub whose version check passes; a changed version fails the check', async () => {
    const g = await orch(
      'contracts',
      'gen',
      'Calculator',
      'add',
      'subtract',
      '--lang',
      'py',
      '-o',
      'contracts/calc.py',
      '--json',
    );
    expect(g.exitCode).toBe(0);
    const { version } = json(g.stdout) as { version: string };
    const file = await readFile(`${repo.root}/contracts/calc.py`, 'utf8');
    expect(file).toContain('Contract: Calculator');
    expect(file).toContain(`Version: ${version}`);
    expect(file).toContain('class Calculator(Protocol):');
    // Stable across runs.
    const again = json(
      (await orch('contracts', 'gen', 'Calculator', 'add', 'subtract', '--lang', 'py', '--json')).stdout,
    );
    expect(again.version).toBe(version);
    const plan = (v: string): string =>
      `contracts:\n  - {name: Calculator, version: "${v}", file_path: contracts/calc.py}\ntasks:\n${task('a', '    contracts_used: [Calculator]\n')}`;
    await repo.write('c-ok.yaml', plan(version));
    await repo.write('c-bad.yaml', plan('nope'));
    expect((await orch('contracts', 'check', 'c-ok.yaml')).exitCode).toBe(0);
    const bad = await orch('contracts', 'check', 'c-bad.yaml', '--json');
    expect(bad.exitCode).toBe(1);
    expect(json(bad.stdout)).toMatchObject({
      ok: false,
      contracts: [{ status: 'version_mismatch', actual_version: version }],
    });
  });
  it('gen prints to stdout and rejects bad input with a usage error', async () => {
    const r = await orch('contracts', 'gen', 'Store', 'get', '--lang', 'go', '--version', '1.2.0');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('// Version: 1.2.0');
    expect(r.stdout).toContain('type Store interface');
    expect((await orch('contracts', 'gen', 'Store', 'get', '--lang', 'rb')).exitCode).toBe(2);
    expect((await orch('contracts', 'gen', 'Bad Name', 'get', '--lang', 'ts')).exitCode).toBe(2);
    expect((await orch('contracts', 'gen', 'Store', 'get')).exitCode).toBe(2); // --lang is required
  });
});

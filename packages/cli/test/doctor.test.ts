import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkClaudeAuth, parseVersion, versionAtLeast, type DoctorReport } from '@orch/engine';
import { binDir } from './doctor-fixture.js';
import { orchInProcess } from './in-process.js';

const SECRET = 'sk-ant-doctor-test-secret-0123456789';

let scratch: string;
let repo: TempRepo;
/** PATH directories holding only the tools a test wants orch to find. */
let withTmux: string;
let withoutTmux: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'orch-doctor-'));
  repo = await tempRepo();
  withTmux = await binDir(scratch, 'with-tmux', ['git', 'sh', 'tmux', 'bwrap']);
  withoutTmux = await binDir(scratch, 'without-tmux', ['git', 'sh']);
  // A stand-in agent CLI: doctor must find it on PATH and read its version.
  const claude = join(withTmux, 'claude');
  await writeFile(claude, '#!/bin/sh\necho "2.1.329 (Claude Code)"\n');
  await chmod(claude, 0o755);
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
  await repo.cleanup();
});

/** In-process, as the binary runs it, with nothing but the given PATH, HOME and variables. */
function doctor(path: string, args: string[], env: Record<string, string> = {}, cwd = repo.root) {
  return orchInProcess(['doctor', ...args], {
    cwd,
    env: { PATH: path, HOME: scratch, ...env },
    onlyEnv: true,
  });
}

describe('orch doctor', () => {
  it('reports every check as JSON and exits 0 when the required tools are there', async () => {
    const r = await doctor(withTmux, ['--json'], { ANTHROPIC_API_KEY: SECRET });
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual([
      'git',
      'tmux',
      'node',
      'claude',
      'codex',
      'gemini',
      'aider',
      'claude auth',
      'open files',
      'repository',
      'disk',
      'sandbox',
    ]);
    for (const c of report.checks) {
      expect(['ok', 'warn', 'fail']).toContain(c.status);
      expect(typeof c.required).toBe('boolean');
      expect(c.detail.length).toBeGreaterThan(0);
    }
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(byName.git).toMatchObject({
      status: 'ok',
      required: true,
      version: expect.stringMatching(/^\d+\.\d+/),
    });
    expect(byName.tmux).toMatchObject({ status: 'ok', required: true });
    expect(byName.claude).toMatchObject({ status: 'ok', required: false, version: '2.1.329' });
    expect(byName.codex).toMatchObject({ status: 'warn', required: false });
    expect(byName['claude auth']).toMatchObject({ status: 'ok', detail: 'ANTHROPIC_API_KEY is set' });
    expect(byName.repository).toMatchObject({ status: 'ok' });
    expect(byName.sandbox).toMatchObject({
      status: 'ok',
      detail: 'bubblewrap works (workers.sandbox: auto)',
    });
    expect(r.stdout).not.toContain(SECRET);
  });

  it('exits 1 and marks tmux failed when tmux is not on PATH', async () => {
    const r = await doctor(withoutTmux, ['--json']);
    expect(r.exitCode).toBe(1);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'tmux')).toMatchObject({
      status: 'fail',
      required: true,
      hint: expect.any(String),
    });
    expect(report.checks.find((c) => c.name === 'git')).toMatchObject({ status: 'ok' });

    const text = await doctor(withoutTmux, []);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toMatch(/FAIL\s+tmux\s+not found on PATH/);
    expect(text.stdout).toContain('1 required check(s) failed');
  });

  it('finds a Claude Code login in the config dir without printing it', async () => {
    const config = join(scratch, 'claude-config');
    await mkdir(config, { recursive: true });
    await writeFile(join(config, '.credentials.json'), JSON.stringify({ token: SECRET }));
    const r = await doctor(withTmux, ['--json'], { CLAUDE_CONFIG_DIR: config });
    const auth = (JSON.parse(r.stdout) as DoctorReport).checks.find((c) => c.name === 'claude auth');
    expect(auth).toMatchObject({ status: 'ok', detail: expect.stringContaining('.credentials.json') });
    expect(r.stdout).not.toContain(SECRET);

    const none = await doctor(withTmux, ['--json'], { CLAUDE_CONFIG_DIR: join(scratch, 'empty') });
    expect(
      (JSON.parse(none.stdout) as DoctorReport).checks.find((c) => c.name === 'claude auth')?.status,
    ).toBe('warn');
  });
});

describe('doctor helpers', () => {
  it('parses and compares versions', () => {
    expect(parseVersion('git version 2.39.5')).toBe('2.39.5');
    expect(parseVersion('tmux 3.3a')).toBe('3.3a');
    expect(parseVersion('no digits')).toBeUndefined();
    expect(versionAtLeast('2.39.5', [2, 38])).toBe(true);
    expect(versionAtLeast('2.38', [2, 38])).toBe(true);
    expect(versionAtLeast('2.37.9', [2, 38])).toBe(false);
    expect(versionAtLeast('10.0', [2, 38])).toBe(true);
    expect(versionAtLeast('1.99', [2, 38])).toBe(false);
  });

  it('names the variable but never its value', () => {
    const check = checkClaudeAuth({ ANTHROPIC_AUTH_TOKEN: SECRET, HOME: '/nonexistent' });
    expect(JSON.stringify(check)).not.toContain(SECRET);
    expect(check.detail).toBe('ANTHROPIC_AUTH_TOKEN is set');
  });
});

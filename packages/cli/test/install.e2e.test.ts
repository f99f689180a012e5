import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findAssetsRoot, listShippedFiles } from '../src/claude/assets.js';
import { unifiedDiff } from '../src/claude/diff.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const assets = findAssetsRoot();

interface Result {
  target: string;
  ok: boolean;
  files: { path: string; status: string; diff?: string }[];
}

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'orch-home-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

function orch(args: string[], env: Record<string, string> = {}, cwd = home) {
  const clean = { ...process.env };
  delete clean.CLAUDE_CONFIG_DIR;
  return execa(process.execPath, [bin, ...args], {
    cwd,
    env: { ...clean, HOME: home, ...env },
    extendEnv: false,
    reject: false,
  });
}

const statuses = (r: Result): Record<string, string> =>
  Object.fromEntries(r.files.map((f) => [f.path, f.status]));

describe('orch install', () => {
  it('copies every agent and the skill into ~/.claude, and a second run changes nothing', async () => {
    const first = await orch(['install', '--json']);
    expect(first.exitCode, first.stderr).toBe(0);
    const r1 = JSON.parse(first.stdout) as Result;
    expect(r1.target).toBe(join(home, '.claude'));
    const shipped = await listShippedFiles(assets);
    expect(Object.keys(statuses(r1))).toEqual(shipped);
    expect(new Set(Object.values(statuses(r1)))).toEqual(new Set(['created']));
    for (const rel of shipped) {
      expect(await readFile(join(home, '.claude', rel), 'utf8')).toBe(
        await readFile(join(assets, rel), 'utf8'),
      );
    }
    expect((await readdir(join(home, '.claude', 'agents'))).length).toBe(6);

    const snapshot = await Promise.all(shipped.map((rel) => readFile(join(home, '.claude', rel), 'utf8')));
    const second = await orch(['install', '--json']);
    expect(second.exitCode).toBe(0);
    expect(new Set(Object.values(statuses(JSON.parse(second.stdout) as Result)))).toEqual(
      new Set(['unchanged']),
    );
    expect(await Promise.all(shipped.map((rel) => readFile(join(home, '.claude', rel), 'utf8')))).toEqual(
      snapshot,
    );
  });

  it('keeps a locally edited file, shows the difference and exits 1; --force replaces it', async () => {
    await orch(['install']);
    const worker = join(home, '.claude', 'agents', 'worker.md');
    const original = await readFile(worker, 'utf8');
    const edited = original.replace('# orch worker: one task, one worktree', '# my own worker rules');
    await writeFile(worker, edited);

    const text = await orch(['install']);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toMatch(/skipped\s+agents\/worker\.md/);
    expect(text.stdout).toContain('-# my own worker rules');
    expect(text.stdout).toContain('+# orch worker: one task, one worktree');
    expect(text.stderr).toContain('ERR_ORCH_INSTALL_EDITED');
    expect(text.stderr).toContain('--force');
    expect(await readFile(worker, 'utf8')).toBe(edited);

    const json = JSON.parse((await orch(['install', '--json'])).stdout) as Result;
    expect(json.ok).toBe(false);
    expect(json.files.find((f) => f.path === 'agents/worker.md')).toMatchObject({
      status: 'skipped',
      diff: expect.stringContaining('@@'),
    });

    const forced = await orch(['install', '--force', '--json']);
    expect(forced.exitCode).toBe(0);
    expect(statuses(JSON.parse(forced.stdout) as Result)['agents/worker.md']).toBe('overwritten');
    expect(await readFile(worker, 'utf8')).toBe(original);
  });

  it('updates a file orch installed earlier and nobody edited', async () => {
    await orch(['install']);
    // Simulate an older orch: a different file content, recorded as installed by orch.
    const rel = 'agents/verifier.md';
    const old = '---\nname: verifier\n---\nolder text\n';
    await writeFile(join(home, '.claude', rel), old);
    const recordPath = join(home, '.claude', '.orch-install.json');
    const record = JSON.parse(await readFile(recordPath, 'utf8')) as { files: Record<string, string> };
    record.files[rel] = createHash('sha256').update(old).digest('hex');
    await writeFile(recordPath, JSON.stringify(record));

    const r = await orch(['install', '--json']);
    expect(r.exitCode).toBe(0);
    expect(statuses(JSON.parse(r.stdout) as Result)[rel]).toBe('updated');
    expect(await readFile(join(home, '.claude', rel), 'utf8')).toBe(
      await readFile(join(assets, rel), 'utf8'),
    );
  });

  it('honours CLAUDE_CONFIG_DIR for user scope and uses ./.claude for project scope', async () => {
    const config = join(home, 'custom-config');
    const user = await orch(['install', '--json'], { CLAUDE_CONFIG_DIR: config });
    expect((JSON.parse(user.stdout) as Result).target).toBe(config);
    expect(await readFile(join(config, 'skills', 'orchestrate', 'SKILL.md'), 'utf8')).toContain(
      'name: orchestrate',
    );

    const project = join(home, 'project');
    await execa('mkdir', ['-p', project]);
    const proj = await orch(
      ['install', '--scope', 'project', '--json'],
      { CLAUDE_CONFIG_DIR: config },
      project,
    );
    expect((JSON.parse(proj.stdout) as Result).target).toBe(join(project, '.claude'));
    expect(await readFile(join(project, '.claude', 'agents', 'planner-architect.md'), 'utf8')).toContain(
      'name: planner-architect',
    );
  });

  it('rejects an unknown scope as a usage error', async () => {
    const r = await orch(['install', '--scope', 'global']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('global');
  });
});

describe('unifiedDiff', () => {
  it('renders hunks with line numbers and context, and nothing for equal texts', () => {
    const a = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'].join('\n') + '\n';
    const b = a.replace('5\n', 'five\n').replace('10\n', '10\n11\n');
    expect(unifiedDiff(a, a)).toBe('');
    expect(unifiedDiff(a, b, { fromLabel: 'old', toLabel: 'new', context: 1 })).toBe(
      [
        '--- old',
        '+++ new',
        '@@ -4,3 +4,3 @@',
        ' 4',
        '-5',
        '+five',
        ' 6',
        '@@ -10,1 +10,2 @@',
        ' 10',
        '+11',
        '',
      ].join('\n'),
    );
    const long = unifiedDiff('a\n', Array.from({ length: 100 }, (_, i) => `l${i}`).join('\n'), {
      maxLines: 10,
    });
    expect(long.split('\n').at(-2)).toMatch(/more diff lines/);
  });
});

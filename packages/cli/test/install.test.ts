import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findAssetsRoot, listShippedFiles } from '../src/commands/install/assets.js';
import { unifiedDiff } from '../src/commands/install/diff.js';
import { orchInProcess } from './in-process.js';

const assets = findAssetsRoot();

interface Result {
  target: string;
  ok: boolean;
  files: { path: string; status: string; diff?: string }[];
  permissions?: { path: string; status: string; added: string[]; diff?: string };
}

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'orch-home-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

/** In-process, as the binary runs it, with HOME in a temp folder and no CLAUDE_CONFIG_DIR of the caller's. */
function orch(args: string[], env: Record<string, string> = {}, cwd = home) {
  return orchInProcess(args, { cwd, env: { CLAUDE_CONFIG_DIR: undefined, HOME: home, ...env } });
}

const statuses = (r: Result): Record<string, string> =>
  Object.fromEntries(r.files.map((f) => [f.path, f.status]));

describe('orch install', () => {
  it('copies the user-facing agents and the skill into ~/.claude, and a second run changes nothing', async () => {
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
    expect((await readdir(join(home, '.claude', 'agents'))).sort()).toEqual([
      'planner-architect.md',
      'supervisor.md',
    ]);
    expect(r1.permissions).toMatchObject({
      path: join(home, '.claude', 'settings.json'),
      status: 'created',
      added: ['Bash(orch:*)'],
    });

    const snapshot = await Promise.all(shipped.map((rel) => readFile(join(home, '.claude', rel), 'utf8')));
    const second = await orch(['install', '--json']);
    expect(second.exitCode).toBe(0);
    const r2 = JSON.parse(second.stdout) as Result;
    expect(new Set(Object.values(statuses(r2)))).toEqual(new Set(['unchanged']));
    expect(r2.permissions).toMatchObject({ status: 'unchanged', added: [] });
    expect(await Promise.all(shipped.map((rel) => readFile(join(home, '.claude', rel), 'utf8')))).toEqual(
      snapshot,
    );
  });

  it('keeps a locally edited file, shows the difference and exits 1; --force replaces it', async () => {
    await orch(['install']);
    const worker = join(home, '.claude', 'agents', 'supervisor.md');
    const original = await readFile(worker, 'utf8');
    const heading = '# orch supervisor: run a plan, follow it, report';
    expect(original).toContain(heading);
    const edited = original.replace(heading, '# my own supervisor rules');
    await writeFile(worker, edited);

    const text = await orch(['install']);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toMatch(/skipped\s+agents\/supervisor\.md/);
    expect(text.stdout).toContain('-# my own supervisor rules');
    expect(text.stdout).toContain(`+${heading}`);
    expect(text.stderr).toContain('ERR_ORCH_INSTALL_EDITED');
    expect(text.stderr).toContain('--force');
    expect(await readFile(worker, 'utf8')).toBe(edited);

    const json = JSON.parse((await orch(['install', '--json'])).stdout) as Result;
    expect(json.ok).toBe(false);
    expect(json.files.find((f) => f.path === 'agents/supervisor.md')).toMatchObject({
      status: 'skipped',
      diff: expect.stringContaining('@@'),
    });

    const forced = await orch(['install', '--force', '--json']);
    expect(forced.exitCode).toBe(0);
    expect(statuses(JSON.parse(forced.stdout) as Result)['agents/supervisor.md']).toBe('overwritten');
    expect(await readFile(worker, 'utf8')).toBe(original);
  });

  it('updates a file orch installed earlier and nobody edited', async () => {
    await orch(['install']);
    // Simulate an older orch: a different file content, recorded as installed by orch.
    const rel = 'agents/planner-architect.md';
    const old = '---\nname: planner-architect\n---\nolder text\n';
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

  it('removes the engine-only agents an earlier orch installed, unless they were edited', async () => {
    const agents = join(home, '.claude', 'agents');
    await execa('mkdir', ['-p', agents]);
    const old = '---\nname: worker\n---\nolder worker\n';
    const mine = '---\nname: verifier\n---\nmy verifier\n';
    await writeFile(join(agents, 'worker.md'), old);
    await writeFile(join(agents, 'verifier.md'), mine);
    const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
    // An older orch recorded both; the verifier was edited since.
    await writeFile(
      join(home, '.claude', '.orch-install.json'),
      JSON.stringify({ files: { 'agents/worker.md': sha(old), 'agents/verifier.md': sha('older') } }),
    );

    const r = JSON.parse((await orch(['install', '--json'])).stdout) as Result;
    expect(statuses(r)['agents/worker.md']).toBe('removed');
    expect(statuses(r)['agents/verifier.md']).toBeUndefined();
    expect((await readdir(agents)).sort()).toEqual(['planner-architect.md', 'supervisor.md', 'verifier.md']);
    expect(await readFile(join(agents, 'verifier.md'), 'utf8')).toBe(mine);
    const record = JSON.parse(await readFile(join(home, '.claude', '.orch-install.json'), 'utf8')) as {
      files: Record<string, string>;
    };
    expect(Object.keys(record.files).filter((f) => /worker|verifier/.test(f))).toEqual([]);
  });

  it('rejects an unknown scope as a usage error', async () => {
    const r = await orch(['install', '--scope', 'global']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('global');
  });
});

describe('orch install: permission rules', () => {
  let project: string;
  beforeEach(async () => {
    project = join(home, 'project');
    await execa('mkdir', ['-p', join(project, '.claude')]);
  });
  const settingsFile = (name = 'settings.json'): string => join(project, '.claude', name);
  const readSettings = async (name?: string): Promise<Record<string, unknown>> =>
    JSON.parse(await readFile(settingsFile(name), 'utf8')) as Record<string, unknown>;

  it('merges Bash(orch:*) and the MCP tools into the project settings, keeping every user rule, and shows the diff', async () => {
    const user = {
      model: 'opus',
      permissions: { allow: ['Bash(npm test:*)'], deny: ['Read(./.env)'], defaultMode: 'acceptEdits' },
      hooks: { Stop: [] },
    };
    await writeFile(settingsFile(), JSON.stringify(user, null, 2));
    await writeFile(
      join(project, '.mcp.json'),
      JSON.stringify({ mcpServers: { orch: { command: 'orch', args: ['mcp'] } } }),
    );

    const text = await orch(['install', '--scope', 'project'], {}, project);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toContain(`permissions → ${settingsFile()}: updated (allow Bash(orch:*), mcp__orch)`);
    expect(text.stdout).toContain('+      "Bash(orch:*)",');
    expect(text.stdout).toContain('+      "mcp__orch"');
    expect(await readSettings()).toEqual({
      ...user,
      permissions: { ...user.permissions, allow: ['Bash(npm test:*)', 'Bash(orch:*)', 'mcp__orch'] },
    });

    const again = JSON.parse(
      (await orch(['install', '--scope', 'project', '--json'], {}, project)).stdout,
    ) as Result;
    expect(again.permissions).toMatchObject({ status: 'unchanged', added: [] });
  });

  it('never overrides a rule the user set: a denied orch stays denied and is not allowed too', async () => {
    await writeFile(settingsFile(), JSON.stringify({ permissions: { deny: ['Bash(orch:*)'] } }));
    const r = JSON.parse(
      (await orch(['install', '--scope', 'project', '--json'], {}, project)).stdout,
    ) as Result;
    expect(r.permissions).toMatchObject({ status: 'unchanged', added: [] });
    expect(await readSettings()).toEqual({ permissions: { deny: ['Bash(orch:*)'] } });
  });

  it('--permissions local writes settings.local.json; none writes no settings; local is refused for user scope', async () => {
    const local = await orch(
      ['install', '--scope', 'project', '--permissions', 'local', '--json'],
      {},
      project,
    );
    expect(local.exitCode, local.stderr).toBe(0);
    expect((JSON.parse(local.stdout) as Result).permissions?.path).toBe(settingsFile('settings.local.json'));
    expect(await readSettings('settings.local.json')).toEqual({ permissions: { allow: ['Bash(orch:*)'] } });
    await expect(readFile(settingsFile(), 'utf8')).rejects.toThrow();

    const none = await orch(
      ['install', '--scope', 'project', '--permissions', 'none', '--json'],
      {},
      project,
    );
    expect((JSON.parse(none.stdout) as Result).permissions).toBeUndefined();
    await expect(readFile(settingsFile(), 'utf8')).rejects.toThrow();

    const user = await orch(['install', '--permissions', 'local']);
    expect(user.exitCode).toBe(2);
    expect(user.stderr).toContain('ERR_ORCH_USAGE');
  });

  it('--no-files writes only the permission rules (the plugin brings the agents and the skill)', async () => {
    const r = await orch(['install', '--scope', 'project', '--no-files', '--json'], {}, project);
    expect(r.exitCode, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as Result;
    expect(result.files).toEqual([]);
    expect(result.permissions).toMatchObject({ status: 'created', added: ['Bash(orch:*)'] });
    expect(await readdir(join(project, '.claude'))).toEqual(['settings.json']);
  });

  it('refuses a settings file that is not a JSON object and writes nothing at all', async () => {
    await writeFile(settingsFile(), '{ "permissions": { "allow": "Bash(orch:*)" } }');
    const r = await orch(['install', '--scope', 'project'], {}, project);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('ERR_ORCH_SETTINGS_INVALID');
    expect(r.stderr).toContain('permissions.allow');
    expect(await readFile(settingsFile(), 'utf8')).toBe('{ "permissions": { "allow": "Bash(orch:*)" } }');
    expect(await readdir(join(project, '.claude'))).toEqual(['settings.json']);
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

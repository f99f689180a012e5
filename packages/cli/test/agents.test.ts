import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Task, parsePlan } from '@orch/core';
import { describe, expect, it } from 'vitest';
import { ENGINE_ROLES } from '@orch/core';
import {
  AGENT_NAMES,
  DEFINITION_FILES,
  findAssetsRoot,
  listShippedFiles,
} from '../src/commands/install/assets.js';
import {
  AgentFrontmatter,
  SkillFrontmatter,
  agentBody,
  parseFrontmatter,
  splitTools,
} from '../src/commands/install/frontmatter.js';

const root = findAssetsRoot();
const read = (rel: string): Promise<string> => readFile(join(root, rel), 'utf8');

describe('agent definitions', () => {
  it('offers the user only the planner and the supervisor; the engine-only agents are in roles/', async () => {
    const md = async (dir: string): Promise<string[]> =>
      (await readdir(join(root, dir))).filter((f) => f.endsWith('.md')).sort();
    expect(await md('agents')).toEqual(['planner-architect.md', 'supervisor.md']);
    expect(await md('roles')).toEqual([...ENGINE_ROLES].map((n) => `${n}.md`).sort());
    expect(AGENT_NAMES).toEqual(['planner-architect', 'supervisor']);
  });

  it.each(DEFINITION_FILES)('%s has valid frontmatter whose name matches the file', async (rel) => {
    const name = rel.replace(/^.*\/|\.md$/g, '');
    const { data, body } = parseFrontmatter(await read(rel), name);
    const fm = AgentFrontmatter.parse(data);
    expect(fm.name).toBe(name);
    expect(body.trim().length).toBeGreaterThan(500);
  });

  it('the skill has valid frontmatter and uses its argument', async () => {
    const text = await read('skills/orchestrate/SKILL.md');
    const { data, body } = parseFrontmatter(text, 'SKILL.md');
    expect(SkillFrontmatter.parse(data).name).toBe('orchestrate');
    expect(body).toContain('$ARGUMENTS');
  });

  it('the worker prompt is self-contained: boundaries, tests first, verify, commit, report, mailbox', async () => {
    const body = agentBody(await read('roles/worker.md'));
    expect(body).not.toMatch(/^---/);
    for (const needle of [
      'files_write',
      'Tests first',
      'git add -A && git commit',
      'orch task done --summary',
      'orch task progress',
      'orch task block --needs',
      'orch task fail --reason',
      '3 attempts',
      'orch mailbox check',
      '--type interface-changed',
      'lockfiles',
      '.orchestrator/',
      'other worktree',
    ]) {
      expect(body, needle).toContain(needle);
    }
    // Verification must come before reporting done.
    expect(body.indexOf('verification command')).toBeLessThan(body.indexOf('orch task done --summary "'));
  });

  it('the reviewer answers with the documented JSON verdicts', async () => {
    const body = await read('roles/reviewer.md');
    const blocks = [...body.matchAll(/```json\n([\s\S]*?)```/g)].map(
      (m) => JSON.parse(m[1]!) as { verdict: string },
    );
    expect(blocks.map((b) => b.verdict)).toEqual(['accept', 'iterate']);
  });

  it('the example plan of the planner and the tasks of the reviewer pass the real plan schema', async () => {
    const planner = await read('agents/planner-architect.md');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(planner)?.[1];
    expect(yaml).toBeDefined();
    const plan = parsePlan(yaml!, 'planner-architect.md');
    expect(plan.tasks.map((t) => t.id)).toEqual(['user-store', 'auth-routes']);
    const reviewer = await read('roles/reviewer.md');
    const iterate = [...reviewer.matchAll(/```json\n([\s\S]*?)```/g)].map(
      (m) => JSON.parse(m[1]!) as { tasks?: unknown[] },
    )[1];
    for (const t of iterate?.tasks ?? []) expect(Task.safeParse(t).success).toBe(true);
    expect(iterate?.tasks?.length).toBe(1);
  });

  it.each(['agents/supervisor.md', 'skills/orchestrate/SKILL.md'])(
    '%s waits in steps under the 5-minute prompt cache, each Bash call with a timeout above its wait',
    async (rel) => {
      const body = await read(rel);
      const timeouts = [...body.matchAll(/orch wait [^\n`]*--timeout (\d+)/g)].map((m) => Number(m[1]));
      expect(timeouts.length).toBeGreaterThan(0);
      const bashTimeoutMs = Number(/`timeout` parameter set to `(\d+)`/.exec(body)?.[1]);
      for (const t of timeouts) {
        expect(t).toBeLessThan(300);
        expect(bashTimeoutMs).toBeGreaterThan(t * 1000);
        expect(bashTimeoutMs).toBeLessThanOrEqual(600_000);
      }
      expect(body).toContain('run_wait');
      expect(body).toContain('--json');
      // The full status is the report, not a poll.
      expect(body).not.toMatch(/update from `orch state status/);
    },
  );

  it('the skill may run its orch commands and the orch MCP tools without asking', async () => {
    const { data } = parseFrontmatter(await read('skills/orchestrate/SKILL.md'), 'SKILL.md');
    const allowed = splitTools(String(SkillFrontmatter.parse(data)['allowed-tools']));
    expect(allowed).toEqual(expect.arrayContaining(['Bash(orch:*)', 'mcp__plugin_orch_orch', 'mcp__orch']));
  });

  it('install ships the user-facing agents and the skill, never the engine-only ones', async () => {
    expect(await listShippedFiles(root)).toEqual([
      ...[...AGENT_NAMES].sort().map((n) => `agents/${n}.md`),
      'skills/orchestrate/SKILL.md',
    ]);
  });
});

describe('frontmatter schema', () => {
  const valid = {
    name: 'worker',
    description: 'Implements one task in one worktree.',
    tools: 'Read, Bash(git log:*)',
    model: 'sonnet',
  };

  it('accepts a valid agent and splits permission patterns correctly', () => {
    expect(AgentFrontmatter.parse(valid).model).toBe('sonnet');
    expect(splitTools('Read, Bash(git log:*, x), Edit')).toEqual(['Read', 'Bash(git log:*, x)', 'Edit']);
  });

  it.each([
    ['missing model', { ...valid, model: undefined }],
    ['unknown model', { ...valid, model: 'gpt-4' }],
    ['bad tool name', { ...valid, tools: 'read files' }],
    ['upper-case name', { ...valid, name: 'Worker' }],
    ['unknown key', { ...valid, colour: 'red' }],
  ])('rejects %s', (_label, data) => {
    expect(AgentFrontmatter.safeParse(data).success).toBe(false);
  });

  it('rejects a file without frontmatter and invalid YAML', () => {
    expect(() => parseFrontmatter('# no frontmatter\n')).toThrow(/frontmatter/);
    expect(() => parseFrontmatter('---\nname: [unclosed\n---\nbody\n')).toThrow(/not valid YAML/);
  });
});

describe('plugin manifest', () => {
  it('the marketplace lists the orch plugin as the orch npm package, which carries its bundle', async () => {
    const plugin = JSON.parse(await read('.claude-plugin/plugin.json')) as Record<string, unknown>;
    const pkg = JSON.parse(await read('packages/orch/package.json')) as { version: string; files: string[] };
    expect(plugin).toMatchObject({ name: 'orch', version: pkg.version, license: 'MIT' });
    const market = JSON.parse(await read('.claude-plugin/marketplace.json')) as {
      name: string;
      owner: { name: string };
      plugins: { name: string; source: unknown }[];
    };
    expect(market.name).toBe('orch');
    expect(market.owner.name).toBeTruthy();
    expect(market.plugins).toEqual([
      expect.objectContaining({ name: 'orch', source: { source: 'npm', package: 'orch' } }),
    ]);
    // Everything the plugin is made of is in the package.
    expect(pkg.files).toEqual(
      expect.arrayContaining(['dist/', 'bin/', 'agents/', 'skills/', '.claude-plugin/', 'LICENSE']),
    );
  });

  it('the icon is a square PNG of 512 px (the plugin directory takes no SVG)', async () => {
    const png = await readFile(join(root, '.claude-plugin', 'icon.png'));
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([512, 512]);
  });
});

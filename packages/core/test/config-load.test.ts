import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainConfig, loadConfig, loadConfigSource, parseConfig, parseConfigSource } from '../src/index.js';

describe('parseConfigSource: unknown keys', () => {
  it('warns about a misspelled key with its place and the name it resembles, and keeps the default', () => {
    const text = 'orchestration:\n  max_paralel_workers: 9\n  max_retries: 1\n';
    const { config, warnings } = parseConfigSource(text, '.claude-agents.yaml');
    expect(warnings).toEqual([
      '.claude-agents.yaml:2:3: orchestration.max_paralel_workers: unknown key, ignored (did you mean "max_parallel_workers"?)',
    ]);
    expect(config.orchestration.max_parallel_workers).toBe(5);
    expect(config.orchestration.max_retries).toBe(1);
  });

  it('checks the top level and every section; a key like no other gets no suggestion', () => {
    const text = 'agent:\n  default: shell\nverification:\n  timeot: 5\n  whatever_this_is: 1\n';
    expect(parseConfigSource(text, 'c.yaml').warnings).toEqual([
      'c.yaml:1:1: agent: unknown key, ignored (did you mean "agents"?)',
      'c.yaml:4:3: verification.timeot: unknown key, ignored (did you mean "timeout"?)',
      'c.yaml:5:3: verification.whatever_this_is: unknown key, ignored',
    ]);
  });

  it('has nothing to say about a config of known keys, or an empty one', () => {
    const text =
      'risk:\n  auto_approve_threshold: 30\nagents:\n  default: shell\npromotion:\n  enabled: false\n';
    expect(parseConfigSource(text, 'c.yaml').warnings).toEqual([]);
    expect(parseConfigSource('', 'c.yaml').warnings).toEqual([]);
    expect(parseConfig(text, 'c.yaml').promotion.enabled).toBe(false);
  });
});

describe('loadConfigSource: which file is the config', () => {
  const repo = async (files: Record<string, string>): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'orch-config-'));
    for (const [name, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), text);
    }
    return dir;
  };

  it('reads orch.yaml first, then .orch/config.yaml, then the seed file, and warns about the ones not read', async () => {
    const dir = await repo({
      'orch.yaml': 'orchestration:\n  max_retries: 7\n',
      '.claude-agents.yaml': 'orchestration:\n  max_retries: 1\n',
    });
    const r = await loadConfigSource(dir);
    expect(r.source).toBe('orch.yaml');
    expect(r.config.orchestration.max_retries).toBe(7);
    expect(r.warnings).toEqual([
      '.claude-agents.yaml is not read: orch.yaml comes first (merge them into one file)',
    ]);
    const nested = await repo({ '.orch/config.yaml': 'agents:\n  default: shell\n' });
    expect((await loadConfigSource(nested)).source).toBe('.orch/config.yaml');
    expect((await loadConfig(nested)).agents.default).toBe('shell');
    const seed = await repo({ '.claude-agents.yml': 'approval:\n  auto_approve_threshold: 3\n' });
    expect((await loadConfig(seed)).approval?.auto_approve_threshold).toBe(3);
    expect((await loadConfigSource(await repo({}))).source).toBeUndefined();
  });

  it('explainConfig names the file, line and column of each value set, and "default" for the rest', async () => {
    const dir = await repo({
      'orch.yaml': '# c\norchestration:\n  max_retries: 7\nnotify:\n  command: [./n.sh]\n',
    });
    const { values, source } = await explainConfig(dir);
    expect(source).toBe('orch.yaml');
    const byKey = new Map(values.map((v) => [v.key, v]));
    expect(byKey.get('orchestration.max_retries')).toEqual({
      key: 'orchestration.max_retries',
      value: 7,
      from: 'orch.yaml:3:3',
    });
    expect(byKey.get('notify.command')?.from).toBe('orch.yaml:5:3');
    expect(byKey.get('orchestration.max_parallel_workers')).toEqual({
      key: 'orchestration.max_parallel_workers',
      value: 5,
      from: 'default',
    });
    expect(byKey.get('notify.desktop')?.from).toBe('default');
    const defaults = await explainConfig(await repo({}));
    expect(defaults.values.every((v) => v.from === 'default')).toBe(true);
    expect(defaults.values.map((v) => v.key)).toContain('merge.strategy');
  });
});

import { describe, expect, it } from 'vitest';
import { parseConfig, parseConfigSource } from '../src/index.js';

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

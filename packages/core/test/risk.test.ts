import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Config, loadConfig, parseConfig, scoreRisk, type OrchError } from '../src/index.js';
import { planOf } from './helpers.js';

const one = (path: string) => scoreRisk(planOf([{ id: 'a', files_write: [path] }]));

describe('scoreRisk: sensitive words', () => {
  it.each([
    ['src/auth/login.ts', 'auth', 20],
    ['src/authService.ts', 'auth', 20],
    ['.env', '.env', 25],
    ['config/.env.local', '.env', 25],
    ['config/production.yaml', 'prod', 30],
    ['db/migrations/**', 'migration', 15],
    ['src/billing/invoice.ts', 'payment', 25],
    ['src/api_key.py', '.env', 25],
    ['src/admin-panel.tsx', 'admin', 15],
  ])('%s matches (%s, +%d)', (path, label, weight) => {
    const r = one(path);
    expect(r.factors).toEqual([`sensitive_path:${path}:${label}`]);
    expect(r.score).toBe(weight);
  });

  it.each([
    'products/list.ts',
    'src/keyboard.ts',
    'src/monkey.ts',
    'src/tokenizer.ts',
    'src/environment.ts',
    'src/authorship.md',
    'src/reproduce.ts',
  ])('%s does not match', (path) => {
    expect(one(path).factors).toEqual([]);
    expect(one(path).score).toBe(0);
  });

  it('counts each path once, for the first pattern in order (as the seed)', () => {
    expect(one('src/auth/secret.ts').factors).toEqual(['sensitive_path:src/auth/secret.ts:auth']);
  });
});

describe('scoreRisk: scale factors and thresholds', () => {
  it('applies the seed weights with its factor strings', () => {
    const tasks = Array.from({ length: 7 }, (_, i) => ({
      id: `t${i}`,
      files_write: [`src/m${i}/a.ts`, `src/m${i}/b.ts`],
      patch_intents:
        i === 0
          ? [1, 2, 3, 4, 5].map((k) => ({
              file: `app${k}.py`,
              action: 'add_config',
              intent: { key: `K${k}` },
            }))
          : [],
      deps_required: i === 1 ? { runtime: ['left-pad', 'zod'] } : undefined,
      verification: [{ command: 'x', type: i < 4 ? 'test' : 'lint' }],
    }));
    const contracts = [1, 2, 3, 4].map((k) => ({ name: `C${k}`, version: '1', file_path: `c${k}.ts` }));
    const r = scoreRisk(planOf(tasks, { contracts }));
    expect(r.factors).toEqual([
      'many_tasks:7',
      'many_files:14',
      'many_hot_files:5',
      'new_dependencies:2',
      'many_contracts:4',
      'incomplete_test_coverage:57%',
    ]);
    // 10 + 12 + 10 + 6 + 5 + int((1 - 4/7) * 20) = 8
    expect(r.score).toBe(10 + 12 + 10 + 6 + 5 + 8);
    expect(r).toMatchObject({ auto_approve: false, auto_approve_threshold: 25, status: 'HIGH RISK' });
    expect(Object.keys(r)).toEqual(['score', 'factors', 'auto_approve', 'auto_approve_threshold', 'status']);
  });

  it('auto-approves at the threshold, reviews up to twice it, high risk above', () => {
    const cfg = (t: number) => Config.parse({ risk: { auto_approve_threshold: t } });
    const plan = planOf([{ id: 'a', files_write: ['src/auth.ts'] }]); // 20
    expect(scoreRisk(plan, cfg(20)).status).toBe('AUTO-APPROVE');
    expect(scoreRisk(plan, cfg(19)).status).toBe('REQUIRES REVIEW');
    expect(scoreRisk(plan, cfg(10)).status).toBe('REQUIRES REVIEW');
    expect(scoreRisk(plan, cfg(9))).toMatchObject({ status: 'HIGH RISK', auto_approve: false });
  });

  it('reads patterns from risk: and from the seed spelling approval:', () => {
    const plan = planOf([{ id: 'a', files_write: ['src/internal/x.ts', 'src/auth.ts'] }]);
    const viaRisk = scoreRisk(
      plan,
      Config.parse({ risk: { sensitive_patterns: [{ pattern: 'internal', weight: 40 }, 'nothing'] } }),
    );
    expect(viaRisk.factors).toEqual(['sensitive_path:src/internal/x.ts:internal']); // replaces the defaults
    expect(viaRisk.score).toBe(40);
    const viaApproval = scoreRisk(
      plan,
      Config.parse({ approval: { sensitive_patterns: ['internal'], auto_approve_threshold: 5 } }),
    );
    expect(viaApproval).toMatchObject({ score: 10, auto_approve_threshold: 5, status: 'REQUIRES REVIEW' });
    const regex = scoreRisk(plan, Config.parse({ risk: { sensitive_patterns: ['^src/int.*\\.ts$'] } }));
    expect(regex.score).toBe(10);
  });

  it('matches regular expressions in linear time: (a|a)*b cannot hang a plan check', () => {
    // A backtracking engine takes minutes here (2^40 ways to split the a's); RE2 answers at once.
    const path = 'a'.repeat(40);
    const withB = `${'a'.repeat(39)}b`;
    const plan = planOf([{ id: 'a', files_write: [path, withB, `src/${'a'.repeat(36)}`] }]);
    const config = parseConfig(
      'risk:\n  sensitive_patterns:\n    - {pattern: "(a|a)*b$", weight: 7}\n',
      'c.yaml',
    );
    const r = scoreRisk(plan, config);
    expect(r.factors.filter((f) => f.startsWith('sensitive_path'))).toEqual([`sensitive_path:${withB}:(a`]);
    expect(r.score).toBe(7);
    const ci = scoreRisk(plan, Config.parse({ risk: { sensitive_patterns: ['^SRC/A+$'] } }));
    expect(ci.factors[0]).toBe(`sensitive_path:src/${'a'.repeat(36)}:^SRC/A+$`);
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orch-config-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('uses defaults without a file, then .claude-agents.yaml, then an explicit file', async () => {
    expect((await loadConfig(dir)).orchestration.max_parallel_workers).toBe(5);
    await writeFile(join(dir, '.claude-agents.yml'), 'risk:\n  auto_approve_threshold: 7\n');
    expect((await loadConfig(dir)).risk?.auto_approve_threshold).toBe(7);
    await writeFile(join(dir, '.claude-agents.yaml'), 'risk:\n  auto_approve_threshold: 9\n');
    expect((await loadConfig(dir)).risk?.auto_approve_threshold).toBe(9);
    await writeFile(join(dir, 'other.yaml'), 'approval:\n  auto_approve_threshold: 11\n');
    expect((await loadConfig(dir, join(dir, 'other.yaml'))).approval?.auto_approve_threshold).toBe(11);
  });

  it('a missing explicit file is an error', async () => {
    await expect(loadConfig(dir, join(dir, 'missing.yaml'))).rejects.toMatchObject({
      code: 'ERR_ORCH_CONFIG_NOT_FOUND',
    });
  });

  it('invalid config errors carry file:line:col', () => {
    const bad = (text: string): OrchError => {
      try {
        parseConfig(text, '.claude-agents.yaml');
      } catch (e) {
        return e as OrchError;
      }
      throw new Error('expected an error');
    };
    const e1 = bad('risk:\n  auto_approve_threshold: high\n');
    expect(e1.code).toBe('ERR_ORCH_CONFIG_INVALID');
    expect(e1.message).toContain('.claude-agents.yaml:2:27: risk.auto_approve_threshold: expected number');
    const e2 = bad('risk:\n  sensitive_patterns:\n    - pattern: "(a)\\\\1"\n');
    expect(e2.message).toContain('.claude-agents.yaml:3:16: risk.sensitive_patterns[0].pattern');
    expect(e2.message).toContain('sensitive pattern "(a)\\\\1" uses a back-reference');
    expect(bad('risk:\n  sensitive_patterns: ["(unclosed"]\n').message).toContain(
      'sensitive pattern "(unclosed" is not a valid RE2 regular expression (missing closing )',
    );
    expect(bad('risk:\n  sensitive_patterns: ["secret(?!s)"]\n').message).toContain(
      'uses lookahead or lookbehind',
    );
    expect(bad('risk:\n  sensitive_patterns: ["(?<=x)y"]\n').message).toContain(
      'uses lookahead or lookbehind',
    );
    expect(bad('risk:\n  sensitive_patterns:\n    - {pattern: x, wieght: 3}\n').message).toContain(
      'did you mean "weight"?',
    );
  });
});

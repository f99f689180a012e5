import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OrchError,
  checkContracts,
  checkPlan,
  Config,
  contractVersion,
  readContractHeader,
  renderContract,
} from '../src/index.js';
import { planOf } from './helpers.js';

describe('renderContract', () => {
  it.each(['ts', 'py', 'go'] as const)('renders %s from the templates with the header', (lang) => {
    const { content, version } = renderContract({ name: 'Calculator', methods: ['add', 'subtract'], lang });
    expect(readContractHeader(content)).toEqual({
      contract: 'Calculator',
      version,
      generated: expect.stringMatching(/^\d{4}-/),
    });
    expect(content).toContain('add');
    expect(content).toContain('subtract');
    expect(version).toMatch(/^[0-9a-f]{12}$/);
    expect(contractVersion(content)).toBe(version);
  });

  it('gives the same version on every run and a new one when the content changes', () => {
    const a = renderContract({ name: 'C', methods: ['x'], lang: 'py', generated: new Date(0) });
    const b = renderContract({ name: 'C', methods: ['x'], lang: 'py', generated: new Date(1e12) });
    expect(a.version).toBe(b.version);
    expect(a.content).not.toBe(b.content);
    expect(renderContract({ name: 'C', methods: ['y'], lang: 'py' }).version).not.toBe(a.version);
    expect(renderContract({ name: 'C', methods: ['x'], lang: 'ts' }).version).not.toBe(a.version);
  });

  it('uses an explicit version', () => {
    const r = renderContract({ name: 'C', methods: ['x'], lang: 'go', version: '2.0.1' });
    expect(r.version).toBe('2.0.1');
    expect(readContractHeader(r.content)?.version).toBe('2.0.1');
  });

  it('rejects names that are not identifiers and unknown languages', () => {
    expect(() => renderContract({ name: 'a b', methods: ['x'], lang: 'ts' })).toThrow(OrchError);
    expect(() => renderContract({ name: 'C', methods: ['x; rm -rf /'], lang: 'ts' })).toThrow(
      /not a valid identifier/,
    );
    expect(() => renderContract({ name: 'C', methods: ['x'], lang: 'rb' as 'ts' })).toThrow(
      /unknown contract language/,
    );
    expect(() =>
      renderContract({ name: 'C', methods: ['x'], lang: 'ts', version: '1\nContract: X' }),
    ).toThrow(OrchError);
  });
});

describe('checkContracts and checkPlan', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'orch-contracts-'));
    await mkdir(join(root, 'contracts'));
    const c = renderContract({ name: 'Calc', methods: ['add'], lang: 'ts' });
    await writeFile(join(root, 'contracts/calc.ts'), c.content);
    await writeFile(
      join(root, 'contracts/old.py'),
      renderContract({ name: 'Old', methods: ['x'], lang: 'py', version: '1' }).content,
    );
    await writeFile(join(root, 'contracts/none.ts'), 'export interface None {}\n');
    await writeFile(join(root, 'version.txt'), c.version);
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it('reports each contract: ok, missing, no header, version mismatch, and bad references', async () => {
    const version = contractVersion(
      await import('node:fs/promises').then((fs) => fs.readFile(join(root, 'contracts/calc.ts'), 'utf8')),
    );
    const plan = planOf([{ id: 'a', contracts_used: ['Calc', 'Nope'] }], {
      contracts: [
        { name: 'Calc', version, file_path: 'contracts/calc.ts', consumers: ['a', 'ghost'] },
        { name: 'Old', version: '2', file_path: 'contracts/old.py' },
        { name: 'None', version: '1', file_path: 'contracts/none.ts' },
        { name: 'Gone', version: '1', file_path: 'contracts/gone.ts' },
      ],
    });
    const r = await checkContracts(plan, root);
    expect(r.ok).toBe(false);
    expect(r.contracts.map((c) => c.status)).toEqual(['ok', 'version_mismatch', 'no_header', 'missing']);
    expect(r.contracts[1]?.message).toBe('contracts/old.py is version 1, the plan expects 2');
    expect(r.errors).toEqual([
      "task 'a' uses contract 'Nope', which is not listed under contracts",
      "contract 'Calc' names consumer 'ghost', which is not a task",
    ]);
  });

  it('checkPlan: exit 0 when clean, 3 when it needs approval, 1 when a check fails', async () => {
    const clean = planOf([{ id: 'a', files_write: ['src/a.ts'] }]);
    expect(await checkPlan(clean, { repoRoot: root })).toMatchObject({
      ok: true,
      exitCode: 0,
      schema: { valid: true, total_tasks: 1 },
    });
    const risky = planOf([{ id: 'a', files_write: ['deploy/prod.yaml'] }]);
    expect(await checkPlan(risky, { repoRoot: root })).toMatchObject({ ok: false, exitCode: 3 });
    expect(
      (
        await checkPlan(risky, {
          repoRoot: root,
          config: Config.parse({ risk: { auto_approve_threshold: 30 } }),
        })
      ).exitCode,
    ).toBe(0);
    const conflicting = planOf([
      { id: 'a', files_write: ['x'] },
      { id: 'b', files_write: ['x'] },
    ]);
    expect(await checkPlan(conflicting, { repoRoot: root })).toMatchObject({
      exitCode: 1,
      conflicts: { count: 1 },
    });
    const cyclic = planOf([
      { id: 'a', depends_on: ['b'] },
      { id: 'b', depends_on: ['a'] },
    ]);
    expect(await checkPlan(cyclic, { repoRoot: root })).toMatchObject({
      exitCode: 1,
      dag: { valid: false, cycle: ['a', 'b', 'a'] },
    });
    const missing = planOf([{ id: 'a' }], { contracts: [{ name: 'X', version: '1', file_path: 'nope.ts' }] });
    expect(await checkPlan(missing, { repoRoot: root })).toMatchObject({
      exitCode: 1,
      contracts: { ok: false },
    });
  });
});

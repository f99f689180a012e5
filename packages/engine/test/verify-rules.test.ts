/** The pure verification rules from @orch/core: forbidden paths, quoting, zero-test detection, contracts. */
import { execa } from 'execa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Config,
  Plan,
  checkBoundaries,
  checkTaskContracts,
  contractVersionHeader,
  countTests,
  expandPlaceholders,
  forbiddenPatterns,
  forbiddenRule,
  matchesForbidden,
  modifiedTests,
  shellQuotePath,
  shellQuoteAll,
} from '@orch/core';

describe('forbidden patterns', () => {
  const defaults = forbiddenPatterns(Config.parse({}));

  it.each([
    ['node_modules/x/index.js', 'node_modules/'],
    ['web/node_modules/x/index.js', 'node_modules/'],
    ['.orchestrator/runs/r/events.jsonl', '.orchestrator/'],
    ['.worktrees/b/src/a.ts', '.worktrees/'],
    ['packages/core/dist/index.js', 'dist/'],
    ['build/out.o', 'build/'],
    ['.env', '.env*'],
    ['config/.env.production', '.env*'],
    ['public/app.min.js', '*.min.js'],
    ['pnpm-lock.yaml', 'lockfile (no approved dependency request)'],
    ['services/api/go.sum', 'lockfile (no approved dependency request)'],
  ])('%s is forbidden by %s', (path, rule) => {
    expect(forbiddenRule(path, defaults)).toBe(rule);
  });

  it.each(['src/build.ts', 'src/distance.ts', 'docs/environment.md', 'src/app.js', 'rebuild/x.ts'])(
    '%s is allowed',
    (path) => expect(forbiddenRule(path, defaults)).toBeUndefined(),
  );

  it('lets lockfiles through with an approved dependency request', () => {
    expect(forbiddenRule('package-lock.json', defaults, { depsApproved: true })).toBeUndefined();
    expect(forbiddenRule('node_modules/x.js', defaults, { depsApproved: true })).toBe('node_modules/');
  });

  it('replaces the defaults with forbidden_patterns and adds extra_forbidden_patterns', () => {
    const c = Config.parse({
      verification: { forbidden_patterns: ['vendor/'], extra_forbidden_patterns: ['*.pem'] },
    });
    expect(forbiddenPatterns(c)).toEqual(['vendor/', '*.pem']);
    const d = Config.parse({ verification: { extra_forbidden_patterns: ['*.pem'] } });
    expect(forbiddenPatterns(d)).toContain('node_modules/');
    expect(forbiddenPatterns(d)).toContain('*.pem');
  });

  it('matches slash patterns as globs over the whole path', () => {
    expect(matchesForbidden('secrets/**/*.key', 'secrets/a/b.key')).toBe(true);
    expect(matchesForbidden('secrets/**/*.key', 'other/secrets/b.key')).toBe(false);
  });
});

describe('checkBoundaries', () => {
  it('matches exact names with glob characters, directories and ./ spellings', () => {
    const r = checkBoundaries({
      changed: ['app/[id]/page.tsx', 'lib/util/x.ts', 'README.md'],
      task: { files_write: ['./app/[id]/page.tsx', 'lib/'], files_append: [] },
      forbiddenPatterns: [],
    });
    expect(r.unauthorized).toEqual([{ path: 'README.md', rule: 'not in files_write or files_append' }]);
  });
});

describe('shell quoting', () => {
  it('reads back as exactly the original words in sh', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: 'grapheme', minLength: 1 }), { minLength: 1, maxLength: 8 }),
        async (words) => {
          const clean = words.map((w) => w.replace(/\0/g, '')).filter((w) => w !== '' && !w.startsWith('-'));
          fc.pre(clean.length > 0);
          const r = await execa('sh', ['-c', `printf '%s\\0' ${shellQuoteAll(clean)}`]);
          expect(r.stdout.split('\0').slice(0, -1)).toEqual(clean);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keeps plain names readable and defuses a leading dash', () => {
    expect(shellQuotePath('src/a-b_c.ts')).toBe('src/a-b_c.ts');
    expect(shellQuotePath('a b')).toBe(`'a b'`);
    expect(shellQuotePath(`it's`)).toBe(`'it'\\''s'`);
    expect(shellQuotePath('--exec=rm')).toBe('./--exec=rm');
    expect(
      expandPlaceholders('x {modified_files} {modified_tests} {other}', {
        modifiedFiles: ['$a'],
        modifiedTests: [],
      }),
    ).toBe(`x '$a'  {other}`);
  });

  it('finds the tests of a change', () => {
    const tracked = [
      'src/auth.ts',
      'test/auth.test.ts',
      'tests/test_login.py',
      'pkg/db_test.go',
      'test/other.test.ts',
    ];
    expect(modifiedTests(['src/auth.ts', 'app/login.py', 'pkg/db.go'], tracked)).toEqual([
      'pkg/db_test.go',
      'test/auth.test.ts',
      'tests/test_login.py',
    ]);
    expect(modifiedTests(['test/other.test.ts'], tracked)).toEqual(['test/other.test.ts']);
  });
});

describe('countTests', () => {
  const cases: [string, string, number | null, number | null][] = [
    ['vitest none', 'No test files found, exiting with code 1\n', 1, 0],
    ['vitest ran', ' Test Files  1 passed (1)\n      Tests  1 failed | 2 passed (3)\n', 1, 3],
    ['vitest all skipped', '      Tests  2 skipped (2)\n', 0, 0],
    ['jest none', 'No tests found, exiting with code 0\n', 0, 0],
    ['jest ran', 'Tests:       1 failed, 4 passed, 5 total\n', 1, 5],
    ['mocha none', '\n  0 passing (1ms)\n', 0, 0],
    ['mocha ran', '  2 passing (5ms)\n  1 failing\n', 1, 3],
    ['node tap none', 'TAP version 13\n1..0\n# tests 0\n# pass 0\n', 0, 0],
    ['node spec', 'ℹ tests 4\nℹ skipped 1\nℹ todo 0\n', 0, 3],
    ['pytest exit 5', '==== no tests ran in 0.01s ====\n', 5, 0],
    ['pytest ran', '==== 3 passed, 1 skipped in 0.12s ====\n', 0, 3],
    ['go none', '?   \texample.com/a\t[no test files]\n?   \texample.com/b\t[no test files]\n', 0, 0],
    [
      'go filter none',
      'testing: warning: no tests to run\nok  \texample.com/a\t0.002s [no tests to run]\n',
      0,
      0,
    ],
    ['go ran', '?   \texample.com/a\t[no test files]\nok  \texample.com/b\t0.01s\n', 0, 1],
    [
      'cargo none',
      'running 0 tests\n\ntest result: ok. 0 passed\n\n   Doc-tests x\n\nrunning 0 tests\n',
      0,
      0,
    ],
    ['cargo ran', 'running 2 tests\ntest a ... ok\n\nrunning 0 tests\n', 0, 2],
    ['unknown', 'all good\n', 0, null],
  ];
  it.each(cases)('%s', (_name, output, exit, ran) => {
    expect(countTests(output, exit)?.ran ?? null).toBe(ran);
  });

  it('ignores colour codes', () => {
    expect(
      countTests('\u001b[2m      Tests \u001b[22m \u001b[33m2 skipped\u001b[39m\u001b[90m (2)\u001b[39m\n', 0)
        ?.ran,
    ).toBe(0);
  });
});

describe('contracts', () => {
  it('reads the Version header behind comment leaders', () => {
    expect(contractVersionHeader('"""\nContract: Auth\nVersion: 1.2.0\n"""\n')).toBe('1.2.0');
    expect(contractVersionHeader('/**\n * Version: 3\n */\n')).toBe('3');
    expect(contractVersionHeader('// Version: 0.1-beta\n')).toBe('0.1-beta');
    expect(contractVersionHeader('no header\n')).toBeUndefined();
  });

  it('reports a missing contract the task owns, and one without a header', () => {
    const plan = Plan.parse({
      tasks: [{ id: 'a', files_write: ['contracts/*.md'] }],
      contracts: [
        { name: 'A', version: '1', file_path: 'contracts/a.md' },
        { name: 'B', version: '1', file_path: 'contracts/b.md' },
      ],
    });
    const r = checkTaskContracts({
      task: plan.tasks[0]!,
      plan,
      changed: [],
      contents: { 'contracts/a.md': null, 'contracts/b.md': 'no header' },
    });
    expect(r.problems).toEqual([
      'contracts/a.md (contract A, version 1) is missing',
      'contracts/b.md (contract B) has no "Version:" header; the plan says 1',
    ]);
  });
});

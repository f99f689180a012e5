import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_SENSITIVE_PATTERNS,
  OrchError,
  compileSensitivePattern,
  detectConflicts,
  globMatch,
  globsOverlap,
  literalHead,
  normalizeRepoPath,
  riskPath,
  sensitiveMatchFinder,
} from '../src/index.js';
import { planOf } from './helpers.js';

/** The normalization rules written out plainly (split, drop `.`, resolve `..`, refuse .git). */
function referenceNormalize(p: string): string {
  if (p.trim() === '' || p.includes('\0') || /^[/\\~!]|^[A-Za-z]:/.test(p)) throw new Error('bad');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw new Error('bad');
      out.pop();
    } else out.push(part);
  }
  if (out.length === 0 || out.some((s) => s.toLowerCase() === '.git')) throw new Error('bad');
  if (p.endsWith('/') && out.at(-1) !== '**') out.push('**');
  const normal = out.join('/');
  // What normalization produces must pass the same rules (`./!x` is not a negated pattern).
  if (/^[/\\~!]|^[A-Za-z]:/.test(normal) || normal.trim() === '') throw new Error('bad');
  return normal;
}

const pathText = fc
  .array(
    fc.constantFrom(
      'a',
      'src',
      '.',
      '..',
      '/',
      '//',
      '.git',
      '.GIT',
      '.gitx',
      '~',
      '!',
      '\\',
      ' ',
      '*',
      'C:',
      '\0',
    ),
    {
      maxLength: 8,
    },
  )
  .map((parts) => parts.join(''));

describe('normalizeRepoPath', () => {
  it('judges the normalized path too: ./!x is not a negated pattern, ./\\x not an absolute path', () => {
    for (const p of ['./!src/**', 'a/../!b', './\\x', 'x/../~y'])
      expect(() => normalizeRepoPath(p)).toThrow(OrchError);
    expect(normalizeRepoPath('./src//a.ts')).toBe('src/a.ts');
  });

  it('property: the already-normal shortcut gives what the full rules give', () => {
    fc.assert(
      fc.property(fc.oneof(pathText, fc.string()), (p) => {
        let want: string | undefined;
        try {
          want = referenceNormalize(p);
        } catch {
          want = undefined;
        }
        if (want === undefined) expect(() => normalizeRepoPath(p)).toThrow(OrchError);
        else {
          expect(normalizeRepoPath(p)).toBe(want);
          expect(normalizeRepoPath(want)).toBe(want);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('literalHead', () => {
  it('property: every path a pattern matches starts with its head', () => {
    const seg = fc.constantFrom(
      'src',
      'a',
      'ab',
      '*',
      '**',
      'a*',
      '*.ts',
      '{a,b}',
      '[ab]',
      '@(x)',
      '?',
      'x+y',
    );
    const pattern = fc.array(seg, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
    const path = fc
      .array(fc.constantFrom('src', 'a', 'ab', 'b', 'x', 'y.ts', 'a.ts', '.env', 'x+y'), {
        minLength: 1,
        maxLength: 5,
      })
      .map((parts) => parts.join('/'));
    fc.assert(
      fc.property(pattern, path, (p, x) => {
        if (globMatch(p, x)) expect(x.startsWith(literalHead(p))).toBe(true);
      }),
      { numRuns: 5000 },
    );
    expect(literalHead('src/comp/Bu*.tsx')).toBe('src/comp/Bu');
    expect(literalHead('src/**')).toBe('src');
    expect(globMatch('src/**', 'src')).toBe(true);
  });
});

describe('sensitiveMatchFinder', () => {
  const words = ['src', 'auth', 'Auth', 'authService', 'products', 'keyboard', 'api_key', 'db', 'migrations'];
  const path = fc
    .array(
      fc.oneof(fc.constantFrom(...words, '.env', '.env.local', 'config.prod.yaml', 'x.ts'), fc.string()),
      {
        minLength: 1,
        maxLength: 4,
      },
    )
    .map((segs) => segs.join('/'));

  it('property: finds the first matcher in order, as testing every matcher on the whole path does', () => {
    const sets = [
      DEFAULT_SENSITIVE_PATTERNS.map((p) => compileSensitivePattern(p.pattern, p.weight)),
      // Regular expressions mixed with word lists, in both orders.
      [
        compileSensitivePattern('^src/.*\\.ts$', 5),
        compileSensitivePattern('auth|api_key', 20),
        compileSensitivePattern('mig.*', 7),
        compileSensitivePattern('\\.env', 25),
      ],
    ];
    for (const matchers of sets) {
      const find = sensitiveMatchFinder(matchers);
      fc.assert(
        fc.property(path, (p) => {
          expect(find(p)).toBe(matchers.find((m) => m.test(riskPath(p))));
        }),
        { numRuns: 1000 },
      );
    }
  });
});

describe('detectConflicts at scale', () => {
  it('a path read by every task costs no pairs, and one writer of it meets every unordered reader', () => {
    const readers = Array.from({ length: 2000 }, (_, i) => ({
      id: `r${i}`,
      files_read: ['README.md', 'docs/*.md'],
      files_append: ['CHANGELOG.md', 'notes/*.md'],
      files_write: [`pkg/m${i}/index.ts`],
      ...(i % 2 === 1 ? { depends_on: ['w'] } : {}),
    }));
    expect(detectConflicts(planOf(readers)).count).toBe(0);
    // Half of the readers depend on the writer; the other half each conflict with it once.
    const r = detectConflicts(planOf([...readers, { id: 'w', files_write: ['docs/**'] }]));
    expect(r.count).toBe(1000);
    expect(new Set(r.conflicts.map((c) => c.type))).toEqual(new Set(['file_read_write']));
    expect(r.conflicts.every((c) => c.tasks[1] === 'w' && Number(c.tasks[0]?.slice(1)) % 2 === 0)).toBe(true);
  });

  it('an append against a read of the same glob is a read/write conflict; appends together are not', () => {
    const r = detectConflicts(
      planOf([
        { id: 'a', files_append: ['notes/*.md'] },
        { id: 'b', files_append: ['notes/*.md'] },
        { id: 'c', files_read: ['notes/*.md'] },
      ]),
    );
    expect(r.conflicts.map((c) => `${c.type} ${c.tasks.join(',')}`)).toEqual([
      'file_read_write c,a',
      'file_read_write c,b',
    ]);
  });

  it('judges ordering through long chains once direct edges do not decide it', () => {
    const chain = Array.from({ length: 500 }, (_, i) => ({
      id: `c${i}`,
      files_write: i === 0 || i === 499 ? ['shared.ts'] : [`own${i}.ts`],
      ...(i > 0 ? { depends_on: [`c${i - 1}`] } : {}),
    }));
    expect(detectConflicts(planOf(chain)).count).toBe(0);
    const r = detectConflicts(planOf([...chain, { id: 'side', files_read: ['shared.ts'] }]));
    expect(r.conflicts.map((c) => c.tasks.join(','))).toEqual(['side,c0', 'side,c499']);
  });

  it('property: globs meet exactly the paths and globs they can overlap', () => {
    const pattern = fc
      .array(fc.constantFrom('src', 'lib', 'a.ts', '*.ts', '**', 'x*', 'docs'), {
        minLength: 1,
        maxLength: 3,
      })
      .map((parts) => parts.join('/'));
    fc.assert(
      fc.property(fc.array(pattern, { minLength: 2, maxLength: 8 }), (patterns) => {
        const tasks = patterns.map((p, i) => ({ id: `t${i}`, files_write: [p] }));
        const got = new Set(detectConflicts(planOf(tasks)).conflicts.map((c) => c.tasks.join(',')));
        const want = new Set<string>();
        patterns.forEach((p, i) =>
          patterns.forEach((q, j) => {
            if (i < j && globsOverlap(p, q)) want.add(`t${i},t${j}`);
          }),
        );
        expect(got).toEqual(want);
      }),
      { numRuns: 500 },
    );
  });
});

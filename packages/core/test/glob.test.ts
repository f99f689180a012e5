import { describe, expect, it } from 'vitest';
import {
  OrchError,
  globMatch,
  globsOverlap,
  isGlob,
  literalPrefix,
  normalizeRepoPath,
} from '../src/index.js';

describe('normalizeRepoPath', () => {
  it('normalizes to one spelling', () => {
    expect(normalizeRepoPath('./src//a/./b.ts')).toBe('src/a/b.ts');
    expect(normalizeRepoPath('src/x/../y.ts')).toBe('src/y.ts');
    expect(normalizeRepoPath('db/migrations/')).toBe('db/migrations/**');
    expect(normalizeRepoPath('src/**/')).toBe('src/**');
  });
  it.each([
    '/etc/passwd',
    '\\\\server\\x',
    'C:/x',
    '../x',
    'a/../../x',
    '.',
    './',
    '.git',
    '.git/HEAD',
    'a/.Git/x',
    '',
    ' ',
    '~/x',
    '!a',
    'a\0b',
  ])('rejects %j with ERR_ORCH_PATH_INVALID', (p) => {
    expect(() => normalizeRepoPath(p)).toThrow(OrchError);
    try {
      normalizeRepoPath(p);
    } catch (e) {
      expect((e as OrchError).code).toBe('ERR_ORCH_PATH_INVALID');
    }
  });
});

describe('globs', () => {
  it('isGlob and literalPrefix', () => {
    expect(isGlob('src/a.ts')).toBe(false);
    for (const g of ['src/*.ts', 'src/**', 'a?.ts', 'a/[ab].ts', 'a/{x,y}.ts', 'a/@(x|y).ts'])
      expect(isGlob(g)).toBe(true);
    expect(literalPrefix('src/api/**/*.ts')).toEqual(['src', 'api']);
    expect(literalPrefix('**/x')).toEqual([]);
  });
  it('globMatch matches dotfiles and exact paths', () => {
    expect(globMatch('src/**', 'src/a/b.ts')).toBe(true);
    expect(globMatch('src/**', 'src/.env')).toBe(true);
    expect(globMatch('src/*.ts', 'src/a/b.ts')).toBe(false);
    expect(globMatch('src/a.ts', 'src/a.ts')).toBe(true);
    expect(globMatch('src/a.ts', 'src/a.tsx')).toBe(false);
  });
  it.each([
    ['src/**', 'src/a.ts', true],
    ['src/a.ts', 'src/a.ts', true],
    ['src/a.ts', 'src/b.ts', false],
    ['src/*.ts', 'src/a*', true],
    ['src/*.ts', 'src/*.js', false],
    ['src/**/x.ts', 'lib/**', false],
    ['**/*.test.ts', 'src/**', true],
    ['src/{a,b}/*.ts', 'src/b/**', true],
    ['src/{a,b}/*.ts', 'src/c/**', false],
    ['src/*/index.ts', 'src/api/*.ts', true],
    ['src/*/index.ts', 'src/api/*.js', false],
    ['a/**/b/*.ts', 'a/x/y/b/c.ts', true],
    ['a/**/b/*.ts', 'a/x/y/c/c.ts', false],
    ['src/[ab].ts', 'src/c?ts', true],
    ['docs/*.md', 'docs/**/*.md', true],
    ['route:/api/*', 'route:/api/users', true],
  ] as const)('globsOverlap(%s, %s) = %s', (a, b, want) => {
    expect(globsOverlap(a, b)).toBe(want);
    expect(globsOverlap(b, a)).toBe(want);
  });
});

import { describe, expect, it } from 'vitest';
import { globMatch, matchesForbidden, pathMatches } from '../src/index.js';

describe('the three meanings of a path pattern', () => {
  it('forbidden: a name without a slash matches in any directory, unlike ownership and boundary', () => {
    expect(matchesForbidden('.env', 'services/api/.env')).toBe(true);
    expect(matchesForbidden('.env', '.env')).toBe(true);
    expect(globMatch('.env', 'services/api/.env')).toBe(false);
    expect(pathMatches('.env', 'services/api/.env')).toBe(false);
  });

  it('forbidden: a trailing slash matches directories (at any depth), never a file of that name', () => {
    expect(matchesForbidden('build/', 'build/out.o')).toBe(true);
    expect(matchesForbidden('build/', 'web/build/x.js')).toBe(true);
    expect(matchesForbidden('build/', 'build')).toBe(false);
    expect(matchesForbidden('build/', 'rebuild/x.ts')).toBe(false);
    // The boundary meaning of `build/` is the directory at the root only.
    expect(pathMatches('build/', 'web/build/x.js')).toBe(false);
    expect(pathMatches('build/', 'build/out.o')).toBe(true);
  });

  it('forbidden: a slash inside anchors the pattern at the root, as in .gitignore', () => {
    expect(matchesForbidden('.orchestrator/runs/', '.orchestrator/runs/r/events.jsonl')).toBe(true);
    expect(matchesForbidden('.orchestrator/runs/', 'web/.orchestrator/runs/r/events.jsonl')).toBe(false);
    expect(matchesForbidden('/dist/', 'dist/a.js')).toBe(true);
    expect(matchesForbidden('/dist/', 'pkg/dist/a.js')).toBe(false);
  });

  it('forbidden: ./ spellings and backslashes are cleaned; paths outside the repository never match', () => {
    expect(matchesForbidden('*.pem', './keys\\server.pem')).toBe(true);
    expect(matchesForbidden('*.pem', '../server.pem')).toBe(false);
    expect(matchesForbidden('*.pem', '/etc/server.pem')).toBe(false);
  });

  it('boundary: an exact name with glob characters matches itself; ownership is exact or a glob', () => {
    expect(pathMatches('app/[id]/page.tsx', 'app/[id]/page.tsx')).toBe(true);
    expect(globMatch('src/**', 'src/.env')).toBe(true);
    expect(globMatch('src/a.ts', 'src/a.ts')).toBe(true);
    expect(globMatch('src/a.ts', 'lib/src/a.ts')).toBe(false);
  });
});

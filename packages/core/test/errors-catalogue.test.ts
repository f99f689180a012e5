import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, OrchError, isOrchError } from '../src/index.js';

const packages = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(join(packages, '..', 'docs', 'errors.md'), 'utf8');

/** The codes of the catalogue's table, one row each: `| \`ERR_ORCH_X\` | what | hint |`. */
function documented(): { code: string; what: string; hint: string }[] {
  return [...doc.matchAll(/^\|\s*`(ERR_ORCH_[A-Z0-9_]+)`\s*\|(.*?)\|(.*?)\|\s*$/gm)].map((m) => ({
    code: m[1] as string,
    what: m[2] as string,
    hint: m[3] as string,
  }));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.tsx?$/.test(name) ? [p] : [];
  });
}

describe('docs/errors.md', () => {
  it('names every code of core/src/errors.ts, each once, with what and a hint', () => {
    const rows = documented();
    const codes = rows.map((r) => r.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...codes].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const r of rows) {
      expect(r.what.trim(), r.code).not.toBe('');
      expect(r.hint.trim(), r.code).not.toBe('');
    }
  });

  it('every ERR_ORCH_ code the source names is one of core/src/errors.ts', () => {
    const known = new Set(Object.keys(ERROR_CODES));
    const unknown: string[] = [];
    for (const pkg of readdirSync(packages)) {
      let files: string[];
      try {
        files = sourceFiles(join(packages, pkg, 'src'));
      } catch {
        continue;
      }
      for (const f of files)
        for (const m of readFileSync(f, 'utf8').matchAll(/ERR_ORCH_[A-Z0-9_]*[A-Z0-9]/g))
          if (!known.has(m[0])) unknown.push(`${m[0]} in ${f.slice(packages.length)}`);
    }
    expect(unknown).toEqual([]);
  });
});

describe('OrchError', () => {
  it('lets callers branch on the code through is() and isOrchError()', () => {
    const e = new OrchError('ERR_ORCH_REF_MOVED', 'moved');
    expect(e.is('ERR_ORCH_REF_MOVED')).toBe(true);
    expect(e.is('ERR_ORCH_REF_TAMPERED')).toBe(false);
    expect(isOrchError(e, 'ERR_ORCH_REF_MOVED')).toBe(true);
    expect(isOrchError(e, 'ERR_ORCH_GIT_FAILED')).toBe(false);
    expect(isOrchError(new Error('ERR_ORCH_REF_MOVED'), 'ERR_ORCH_REF_MOVED')).toBe(false);
    expect(isOrchError(e)).toBe(true);
  });
});

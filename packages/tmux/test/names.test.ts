import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  encodeId,
  runSessionPrefix,
  sessionName,
  socketNameFor,
  supervisorSessionName,
} from '../src/names.js';
import { shellQuote } from '@orch/core';
import { chain, escapeArg, escapeFormat } from '../src/args.js';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const taskId = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,62}$/);

describe('names', () => {
  it('names sockets by the real path of the repository, with [a-z0-9-] only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orch-names-'));
    try {
      const link = join(dir, 'link');
      await symlink(dir, link);
      expect(socketNameFor(dir)).toMatch(/^orch-[a-z0-9]{12}$/);
      expect(socketNameFor(link)).toBe(socketNameFor(dir));
      expect(socketNameFor(join(dir, 'other'))).not.toBe(socketNameFor(dir));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps session names free of the characters tmux rewrites', () => {
    fc.assert(
      fc.property(fc.string(), taskId, (run, task) => {
        expect(sessionName(run, task)).toMatch(/^orch-[a-z0-9_-]+$/);
        expect(supervisorSessionName(run)).toMatch(/^orch-[a-z0-9_-]*$/);
      }),
    );
  });

  it('maps distinct (run, task) pairs to distinct sessions', () => {
    expect(sessionName('r', 'a.b')).not.toBe(sessionName('r', 'a_b'));
    expect(sessionName('r', 'a.b')).not.toBe(sessionName('r', 'a-b'));
    expect(sessionName('r-x', 'y')).not.toBe(sessionName('r', 'x-y'));
    fc.assert(
      fc.property(fc.string(), taskId, fc.string(), taskId, (r1, t1, r2, t2) => {
        fc.pre(r1 !== r2 || t1 !== t2);
        expect(sessionName(r1, t1)).not.toBe(sessionName(r2, t2));
      }),
      { numRuns: 2000 },
    );
  });

  it('never lets a supervisor session collide with a task session or another run', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), taskId, (r1, r2, task) => {
        expect(supervisorSessionName(r1)).not.toBe(sessionName(r2, task));
        expect(sessionName(r1, task).startsWith(runSessionPrefix(r1))).toBe(true);
        if (r1 !== r2) expect(sessionName(r2, task).startsWith(runSessionPrefix(r1))).toBe(false);
      }),
      { numRuns: 2000 },
    );
    expect(encodeId('a.b_c:D')).toBe('a_db_uc_x00003a_x000044');
  });
});

describe('args', () => {
  it('escapes a trailing semicolon so tmux does not split the command there', () => {
    expect(escapeArg('a;')).toBe('a\\;');
    expect(escapeArg(';')).toBe('\\;');
    expect(escapeArg('a;b')).toBe('a;b');
    expect(chain([['x', 'y;'], ['z']])).toEqual(['x', 'y\\;', ';', 'z']);
  });

  it('quotes for sh and escapes tmux formats', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(escapeFormat('a#{b}#')).toBe('a##{b}##');
  });
});

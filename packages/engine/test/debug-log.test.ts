import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setTraceSink, trace, traced } from '@orch/core';
import { installDebugLog } from '../src/debug-log.js';

let dir: string | undefined;
afterEach(async () => {
  setTraceSink(undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('the debug log', () => {
  it('with ORCH_DEBUG set, appends every trace line to debug.log in the run folder', async () => {
    dir = await mkdtemp(join(tmpdir(), 'orch-debug-'));
    const file = installDebugLog(dir, { ORCH_DEBUG: '1' });
    expect(file).toBe(join(dir, 'debug.log'));
    trace('pool.release', new Error('worktree is gone'));
    await Promise.reject(new Error('no such session')).catch(traced('tmux.kill'));
    const lines = (await readFile(join(dir, 'debug.log'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ pool\.release — Error: worktree is gone$/);
    expect(lines[1]).toContain('tmux.kill — Error: no such session');
  });

  it('writes nothing without ORCH_DEBUG (or with ORCH_DEBUG=0)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'orch-debug-'));
    expect(installDebugLog(dir, {})).toBeUndefined();
    expect(installDebugLog(dir, { ORCH_DEBUG: '0' })).toBeUndefined();
    trace('pool.release', new Error('x'));
    await expect(readFile(join(dir, 'debug.log'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

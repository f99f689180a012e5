import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRepo, type RunRepo } from './task-fixture.js';

let r: RunRepo;
beforeAll(async () => {
  // In-process: the commands need no terminal; the binary runs them in groups.e2e.test.ts.
  r = await runRepo(undefined, { inProcess: true });
  await writeFile(
    join(r.root, 'tasks.yaml'),
    [
      'tasks:',
      '  - id: api',
      '    description: Build the login endpoint',
      '    files_write: [src/auth/login.ts]',
      '    context_keys: [naming]',
      '  - id: ui',
      '    description: draw the buttons',
    ].join('\n'),
  );
});
afterAll(() => r.repo.cleanup());

describe('orch context', () => {
  it('sets from a worktree and reads from the root: one store per repository', async () => {
    const set = await r.orch(
      ['context', 'set', 'auth.tokens', '{"format":"JWT"}'],
      { ORCH_TASK: 'api' },
      r.worktree,
    );
    expect(set.exitCode).toBe(0);
    await r.orch(['context', 'set', 'naming', 'camelCase everywhere']);
    const get = await r.orch(['context', 'get', 'auth.tokens', '--json']);
    expect(JSON.parse(get.stdout)).toMatchObject({
      key: 'auth.tokens',
      value: { format: 'JWT' },
      addedBy: 'api',
    });
    expect((await r.orch(['context', 'get', 'auth.tokens.format'])).stdout.trim()).toBe('JWT');
    expect((await r.orch(['context', 'get', 'naming'])).stdout.trim()).toBe('camelCase everywhere');
    const list = JSON.parse((await r.orch(['context', 'list', '--json'])).stdout) as Record<string, unknown>;
    expect(Object.keys(list).sort()).toEqual(['auth.tokens', 'naming']);
    const search = JSON.parse((await r.orch(['context', 'search', 'jwt', '--json'])).stdout) as Record<
      string,
      unknown
    >;
    expect(Object.keys(search)).toEqual(['auth.tokens']);
  });

  it('renders the entries relevant to a task as Markdown', async () => {
    const md = await r.orch(['context', 'get-for-task', 'api'], { ORCH_TASK: 'api' }, r.worktree);
    expect(md.exitCode).toBe(0);
    expect(md.stdout).toContain('## Relevant Project Context');
    expect(md.stdout).toContain('### naming');
    expect(md.stdout).toContain('### auth.tokens'); // from the path component "auth"
    const none = await r.orch(['context', 'get-for-task', 'ui']);
    expect(none).toMatchObject({ exitCode: 0, stdout: '' });
    const unknown = await r.orch(['context', 'get-for-task', 'nope']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('ERR_ORCH_UNKNOWN_TASK');
  });

  it('deletes, and reports a missing key with exit 1', async () => {
    expect((await r.orch(['context', 'delete', 'naming'])).exitCode).toBe(0);
    expect((await r.orch(['context', 'delete', 'naming'])).exitCode).toBe(1);
    const missing = await r.orch(['context', 'get', 'naming']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('ERR_ORCH_CONTEXT_NOT_FOUND');
  });
});

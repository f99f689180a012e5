import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  currentRun,
  isolatedTmux,
  landedTasks,
  orchSessions,
  runOrch,
  tempRepo,
  type TempRepo,
  writerTaskYaml,
} from '@orch/test-utils';

const task = (id: string, deps: string[]): string => writerTaskYaml(id, deps);

const PLAN = `request: six tasks in three waves
tasks:${task('a', [])}${task('b', [])}${task('c', ['a'])}${task('d', ['b'])}${task('e', ['c', 'd'])}${task('f', ['c'])}
`;

describe('orch run with shell workers', () => {
  let repo: TempRepo;
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;

  beforeEach(async () => {
    repo = await tempRepo({ 'README.md': '# demo\n', 'tasks.yaml': PLAN });
    tmux = await isolatedTmux();
  });
  afterEach(async () => {
    await tmux.cleanup();
    await repo.cleanup();
  });

  it('runs six tasks in dependency order, merges them into staging, promotes, and leaves only staging', async () => {
    const before = await repo.git('rev-parse', 'HEAD');
    const r = await runOrch(['run', 'tasks.yaml', '--no-tui', '--yes', '--max-workers', '3'], {
      cwd: repo.root,
      env: tmux.env,
      timeoutMs: 180_000,
    });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const runId = await currentRun(repo.root);
    // Every task reached staging, each exactly once, and after its dependencies.
    const merges = await landedTasks(repo.root, `orch/${runId}/staging`);
    expect([...merges].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    const pos = (t: string): number => merges.indexOf(t);
    expect(pos('c')).toBeGreaterThan(pos('a'));
    expect(pos('d')).toBeGreaterThan(pos('b'));
    expect(pos('e')).toBeGreaterThan(Math.max(pos('c'), pos('d')));
    expect(pos('f')).toBeGreaterThan(pos('c'));
    // Dependents saw their dependencies' files (their scripts exit 3 otherwise).
    for (const t of ['a', 'b', 'c', 'd', 'e', 'f']) {
      expect(await repo.git('show', `orch/${runId}/staging:src/${t}.txt`)).toMatch(new RegExp(`^${t} after`));
    }
    // Promotion moved main (the user's checkout was clean) by fast-forward.
    const main = await repo.git('rev-parse', 'main');
    expect(main).toBe(await repo.git('rev-parse', `orch/${runId}/staging`));
    expect(await repo.git('merge-base', '--is-ancestor', before, main).then(() => true)).toBe(true);
    // Nothing of the run is left but staging: no task branch, no worktree, no session.
    const branches = (await repo.git('branch', '--format=%(refname:short)')).split('\n').sort();
    expect(branches).toEqual(['main', `orch/${runId}/staging`]);
    const worktrees = (await repo.git('worktree', 'list', '--porcelain'))
      .split('\n')
      .filter((l) => l.startsWith('worktree '));
    expect(worktrees).toHaveLength(1);
    expect(await orchSessions(repo.root, tmux.env)).toEqual([]);
    // The user's files were not touched, and orch's folders stay out of git status.
    expect(await repo.git('status', '--porcelain')).toBe('');
    expect(existsSync(join(repo.root, 'src', 'a.txt'))).toBe(true);
  });

  it('refuses an invalid plan before creating anything', async () => {
    await repo.write(
      'bad.yaml',
      'tasks:\n  - id: a\n    depends_on: [zz]\n    verification: [{command: "true"}]\n',
    );
    const r = await runOrch(['run', 'bad.yaml', '--no-tui'], { cwd: repo.root, env: tmux.env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/ERR_ORCH_PLAN/);
    expect(await repo.git('branch', '--format=%(refname:short)')).toBe('main');
  });
});

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  currentRun,
  landedTasks,
  runEvents,
  runOrch,
  shellPlan,
  tmuxRepo,
  type TempRepo,
} from '@orch/test-utils';

interface Ev {
  type: string;
  task?: string;
  from?: string;
  to?: string;
  reason?: string;
  category?: string;
  final?: boolean;
}

const events = async (root: string): Promise<Ev[]> => (await runEvents(root)) as Ev[];

/** The tasks on staging, newest first. */
async function mergesOnStaging(repo: TempRepo): Promise<string[]> {
  return (await landedTasks(repo.root, `orch/${await currentRun(repo.root)}/staging`)).reverse();
}

// Each test runs in a repository and a tmux folder of its own (tmuxRepo): they run side by side.
describe.concurrent('gates: conflicts, incremental checks, promotion, abort', () => {
  it('sends a merge conflict back to its worker, who resolves it on the retry', async (t) => {
    // Both tasks may append to notes.txt; b works from the base and reports only once a has landed on
    // staging (squash subject `a: ...`), so b's append conflicts however the workers are scheduled.
    const plan = `tasks:
  - id: a
    agent: shell
    files_write: [a.txt]
    files_append: [notes.txt]
    verification: [{ command: "true" }]
    run: |
      echo a >> notes.txt && echo a > a.txt && git add -A && git commit -qm a && orch task done --summary a
  - id: b
    agent: shell
    files_write: [b.txt]
    files_append: [notes.txt]
    verification: [{ command: "true" }]
    run: |
      if [ "$ORCH_ATTEMPT" = 1 ]; then
        echo b >> notes.txt && echo b > b.txt && git add -A && git commit -qm b
        for i in $(seq 600); do
          staging=$(git for-each-ref --format='%(refname)' 'refs/heads/orch/*/staging')
          [ -n "$staging" ] && git log -1 --format=%s "$staging" | grep -q '^a:' && break
          sleep 0.1
        done
        orch task done --summary b
      else
        grep -q '<<<<<<<' notes.txt || { echo "no conflict markers"; exit 4; }
        printf 'notes\\na\\nb\\n' > notes.txt && git add -A && git commit -qm "b: resolve" && orch task done --summary resolved
      fi
`;
    const { repo, env } = await tmuxRepo(t, { 'notes.txt': 'notes\n', 'tasks.yaml': plan });
    const r = await runOrch(['run', '--no-tui', '--yes', '--max-workers', '2'], {
      cwd: repo.root,
      env: env,
      timeoutMs: 120_000,
    });
    expect(r.exitCode).toBe(0);
    const evs = await events(repo.root);
    expect(evs).toContainEqual(
      expect.objectContaining({ type: 'task.failed', task: 'b', category: 'merge_conflict', final: false }),
    );
    expect(await repo.git('show', 'main:notes.txt')).toBe('notes\na\nb');
    expect((await mergesOnStaging(repo)).sort()).toEqual(['a', 'b']);
  });

  it('keeps staging at its checked tip when the incremental check fails (nothing to revert), and retries', async (t) => {
    const plan = `tasks:
  - id: good
    agent: shell
    files_write: [src/good.txt]
    verification: [{ command: "true" }]
    run: |
      mkdir -p src && echo ok > src/good.txt && git add -A && git commit -qm good && orch task done --summary good
  - id: bad
    agent: shell
    depends_on: [good]
    files_write: [src/bad.txt, src/fixed.txt]
    verification: [{ command: "true" }]
    run: |
      if [ "$ORCH_ATTEMPT" = 1 ]; then
        echo broken > src/bad.txt
      else
        git rm -q src/bad.txt && echo ok > src/fixed.txt
      fi
      git add -A && git commit -qm "bad $ORCH_ATTEMPT" && orch task done --summary "attempt $ORCH_ATTEMPT"
`;
    const { repo, env } = await tmuxRepo(t, {
      'tasks.yaml': plan,
      '.claude-agents.yaml': 'verification:\n  integration_command: "! test -e src/bad.txt"\n',
    });
    const r = await runOrch(['run', '--no-tui', '--yes'], {
      cwd: repo.root,
      env: env,
      timeoutMs: 120_000,
    });
    expect(r.exitCode).toBe(0);
    const moves = (await events(repo.root)).filter((e) => e.type === 'staging.moved');
    // Staging moves only to a tip whose check passed: bad's failed landing was never on it, so
    // nothing was reverted, and bad's fixed landing went on exactly good's tip.
    expect(moves.map((m) => m.reason)).toEqual(['merge good', 'merge bad']);
    expect(moves[1]!.from).toBe(moves[0]!.to);
    for (const m of moves)
      expect(await repo.git('ls-tree', '--name-only', '-r', m.to!, 'src')).not.toMatch(/bad\.txt/);
    expect(await events(repo.root)).toContainEqual(
      expect.objectContaining({
        type: 'task.failed',
        task: 'bad',
        category: 'integration_failed',
        final: false,
      }),
    );
    expect(await mergesOnStaging(repo)).toEqual(['bad', 'good']);
    expect(await repo.git('ls-tree', '--name-only', '-r', 'main', 'src')).toBe('src/fixed.txt\nsrc/good.txt');
  });

  it('leaves a dirty checkout byte-identical at promotion and prints the command to run', async (t) => {
    const plan = shellPlan([
      {
        id: 'a',
        files_write: ['a.txt'],
        verify: ['test -s a.txt'],
        run: 'echo a > a.txt && git add -A && git commit -qm a && orch task done --summary a',
      },
    ]);
    const { repo, env } = await tmuxRepo(t, { 'tasks.yaml': plan, 'README.md': '# project\n' });
    const before = await repo.git('rev-parse', 'main');
    await writeFile(join(repo.root, 'README.md'), '# project\nlocal edit, not committed\n');
    await writeFile(join(repo.root, 'scratch.txt'), 'untracked\n');
    const statusBefore = await repo.git('status', '--porcelain');
    const r = await runOrch(['run', '--no-tui', '--yes'], {
      cwd: repo.root,
      env: env,
      timeoutMs: 120_000,
    });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toMatch(/promotion stopped/);
    expect(r.stdout).toMatch(/git -C \S+ merge --ff-only orch\/[^/]+\/staging/);
    expect(await repo.git('rev-parse', 'main')).toBe(before);
    expect(await readFile(join(repo.root, 'README.md'), 'utf8')).toBe(
      '# project\nlocal edit, not committed\n',
    );
    expect(await readFile(join(repo.root, 'scratch.txt'), 'utf8')).toBe('untracked\n');
    expect(await repo.git('status', '--porcelain')).toBe(statusBefore);
    const wait = await runOrch(['wait', '--timeout', '1'], { cwd: repo.root, env: env });
    expect(wait.exitCode).toBe(3);
  });

  it('abort of a succeeded run is refused and leaves main alone; clean removes the run on request', async (t) => {
    const plan = shellPlan([
      {
        id: 'a',
        files_write: ['a.txt'],
        verify: ['test -s a.txt'],
        run: 'echo a > a.txt && git add -A && git commit -qm a && orch task done --summary a',
      },
    ]);
    const { repo, env } = await tmuxRepo(t, { 'tasks.yaml': plan });
    const before = await repo.git('rev-parse', 'main');
    const r = await runOrch(['run', '--no-tui', '--yes'], {
      cwd: repo.root,
      env: env,
      timeoutMs: 120_000,
    });
    expect(r.exitCode).toBe(0);
    const promoted = await repo.git('rev-parse', 'main');
    expect(promoted).not.toBe(before);
    const run = await currentRun(repo.root);
    // Aborting would move the user's branch back and make the promoted work vanish: refused.
    const a = await runOrch(['state', 'abort', '--yes'], { cwd: repo.root, env: env });
    expect(a.exitCode).toBe(1);
    expect(a.stderr).toContain(`ERR_ORCH_RUN_FINISHED: Run ${run} has already succeeded`);
    expect(a.stderr).toContain(`orch state clean --run ${run}`);
    expect(await repo.git('rev-parse', 'main')).toBe(promoted);
    expect(await repo.git('branch', '--format=%(refname:short)')).toContain(`orch/${run}/staging`);

    const clean = await runOrch(['state', 'clean', '--run', run, '--yes'], { cwd: repo.root, env: env });
    expect(clean.exitCode).toBe(0);
    expect(clean.stdout).toContain(`branch orch/${run}/staging`);
    expect(await repo.git('branch', '--format=%(refname:short)')).toBe('main');
    expect(await repo.git('rev-parse', 'main')).toBe(promoted);
    expect(await repo.git('status', '--porcelain')).toBe('');
  });
});

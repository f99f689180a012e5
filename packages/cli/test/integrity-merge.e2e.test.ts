/**
 * What is merged is what was verified, and only orch moves staging: `shell` workers that behave
 * like buggy or hostile agents (decoy branches, late commits from a background process, their own
 * branch, a hand-moved staging ref, symlinks out of the repository, hooks planted in `.git/hooks`),
 * run end to end with real git and orch's own tmux server.
 */
import { existsSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  currentRun,
  isolatedTmuxEach,
  landedTasks,
  NO_SANDBOX_CONFIG,
  runEvents,
  runOrch,
  tempRepo,
  tmuxRepo,
  type TempRepo,
} from '@orch/test-utils';

/** A one-task plan: task `a` owns a.txt (and late.txt), its verification is `check`. */
function plan(run: string, check = 'test -s a.txt'): string {
  const indented = run
    .trim()
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
  return `tasks:
  - id: a
    agent: shell
    files_write: [a.txt, late.txt, links/**]
    verification: [{ command: ${JSON.stringify(check)} }]
    run: |
${indented}
`;
}

/**
 * These attacks are the ones orch must stop without an OS sandbox (macOS, `workers.sandbox: off`):
 * run them unconfined. With the sandbox most of them cannot even be tried (sandbox.e2e.test.ts).
 */
function unconfinedRepo(files: Record<string, string>): Promise<TempRepo> {
  const config = files['.claude-agents.yaml'] ?? '';
  return tempRepo({ ...files, '.claude-agents.yaml': `${NO_SANDBOX_CONFIG}${config}` });
}

/** Whether `path` exists in `ref`'s tree. */
async function has(repo: TempRepo, ref: string, path: string): Promise<boolean> {
  return repo
    .git('cat-file', '-e', `${ref}:${path}`)
    .then(() => true)
    .catch(() => false);
}

// One-task runs, each in a repository and a tmux folder of its own: they run side by side.
describe.concurrent('merging exactly what was verified', () => {
  const run = (w: { repo: TempRepo; env: Record<string, string> }) =>
    runOrch(['run', '--no-tui', '--yes'], { cwd: w.repo.root, env: w.env, timeoutMs: 120_000 });

  it('merges the decoy HEAD that was verified, never the out-of-bounds commit left on the task branch', async (t) => {
    const w = await tmuxRepo(
      t,
      {
        'tasks.yaml': plan(`
echo secret > secret.txt && git add -A && git commit -qm "out of bounds"
git checkout -q -b decoy HEAD~1
echo a > a.txt && git add -A && git commit -qm "in bounds"
orch task done --summary "write a.txt"`),
      },
      unconfinedRepo,
    );
    const { repo } = w;
    const r = await run(w);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(await has(repo, 'main', 'a.txt')).toBe(true);
    expect(await has(repo, 'main', 'secret.txt')).toBe(false);
    const verified = (await runEvents(repo.root)).find((e) => e.type === 'task.verified' && e.ok);
    expect(await repo.git('log', '-1', '--format=%s', String(verified?.headCommit))).toBe('in bounds');
    // The commit the task branch held is not lost: it is kept on an archive ref.
    const id = await currentRun(repo.root);
    expect(await repo.git('log', '-1', '--format=%s', `orch/${id}/archive/a-1`)).toBe('out of bounds');
  });

  it('ignores a commit a background process makes after `orch task done`, while verification runs', async (t) => {
    // The run's first verification takes its first checkout slot.
    const verifyDir = '$ORCH_ROOT/.worktrees/_verify-$ORCH_RUN-slot1';
    const w = await tmuxRepo(
      t,
      {
        'tasks.yaml': plan(
          `
echo a > a.txt && git add -A && git commit -qm a
setsid sh -c 'until [ -d "${verifyDir}" ]; do sleep 0.1; done; echo late > late.txt; git add -A; git commit -qm late; touch "$ORCH_ROOT/.git/late-done"' >/dev/null 2>&1 </dev/null &
orch task done --summary "write a.txt"`,
          // Verification lasts until the late commit exists (or 20 s).
          'for i in $(seq 200); do [ -e "$(git rev-parse --git-common-dir)/late-done" ] && break; sleep 0.1; done; test -s a.txt',
        ),
      },
      unconfinedRepo,
    );
    const { repo } = w;
    const r = await run(w);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(existsSync(join(repo.root, '.git', 'late-done'))).toBe(true);
    expect(await has(repo, 'main', 'a.txt')).toBe(true);
    expect(await has(repo, 'main', 'late.txt')).toBe(false);
    // The late commit is kept, not merged: on an archive ref.
    const id = await currentRun(repo.root);
    expect(await repo.git('log', '-1', '--format=%s', `orch/${id}/archive/a-1`)).toBe('late');
  });

  it('merges the work an agent committed on its own branch (`git checkout -b my-feature`)', async (t) => {
    const w = await tmuxRepo(
      t,
      {
        'tasks.yaml': plan(`
git checkout -q -b my-feature
echo a > a.txt && git add -A && git commit -qm a
orch task done --summary "write a.txt"`),
      },
      unconfinedRepo,
    );
    const { repo } = w;
    const r = await run(w);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(await repo.git('show', 'main:a.txt')).toBe('a');
    expect(await landedTasks(repo.root, 'main')).toEqual(['a']);
  });

  it('fails the task, naming the branch, when the HEAD it left does not descend from its base', async (t) => {
    const w = await tmuxRepo(
      t,
      {
        'tasks.yaml': plan(`
git checkout -q --orphan my-feature
echo a > a.txt && git add a.txt && git commit -qm "unrelated history"
orch task done --summary "write a.txt"`),
        '.claude-agents.yaml': 'orchestration:\n  max_retries: 0\n',
      },
      unconfinedRepo,
    );
    const { repo } = w;
    const before = await repo.git('rev-parse', 'main');
    const r = await run(w);
    expect(r.exitCode).not.toBe(0);
    const failed = (await runEvents(repo.root)).find((e) => e.type === 'task.failed');
    expect(String(failed?.reason)).toMatch(/branch my-feature/);
    expect(await repo.git('rev-parse', 'main')).toBe(before);
    const finished = (await runEvents(repo.root)).find((e) => e.type === 'run.finished');
    expect(finished?.outcome).toBe('failed');
  });

  it('refuses a symlink to /etc/passwd and merges nothing of it', async (t) => {
    const w = await tmuxRepo(
      t,
      {
        'tasks.yaml': plan(`
mkdir -p links && ln -s /etc/passwd links/passwd && echo a > a.txt
git add -A && git commit -qm "a link"
orch task done --summary "a link"`),
        '.claude-agents.yaml': 'orchestration:\n  max_retries: 0\n',
      },
      unconfinedRepo,
    );
    const { repo } = w;
    const r = await run(w);
    expect(r.exitCode).not.toBe(0);
    const failed = (await runEvents(repo.root)).find((e) => e.type === 'task.failed');
    expect(failed?.category).toBe('boundary_violation');
    expect(await has(repo, 'main', 'links/passwd')).toBe(false);
  });
});

describe('what orch owns, only orch moves', () => {
  let repo: TempRepo;
  const tmux = isolatedTmuxEach(() => repo);

  it('starts a new worktree from the last verified staging tip, not from a merge whose check still runs', async () => {
    const common = '"$(git rev-parse --git-common-dir)"';
    const tasks = `tasks:
  - id: bad
    agent: shell
    files_write: [src/bad.txt, src/fixed.txt]
    verification: [{ command: "true" }]
    run: |
      mkdir -p src
      if [ "$ORCH_ATTEMPT" = 1 ]; then echo broken > src/bad.txt; else git rm -q src/bad.txt && mkdir -p src && echo ok > src/fixed.txt; fi
      git add -A && git commit -qm "bad $ORCH_ATTEMPT" && orch task done --summary "attempt $ORCH_ATTEMPT"
  - id: blocker
    agent: shell
    files_write: [src/blocker.txt]
    verification: [{ command: "true" }]
    run: |
      if [ "$ORCH_ATTEMPT" = 1 ]; then
        # Frees its worker slot only once bad's incremental check is running.
        until [ -e ${common}/checking ]; do sleep 0.1; done
        orch mailbox send supervisor "after bad" --type blocked-on --task bad
        sleep 60; exit 1
      fi
      mkdir -p src && echo b > src/blocker.txt && git add -A && git commit -qm blocker && orch task done --summary blocker
  - id: innocent
    agent: shell
    files_write: [src/innocent.txt]
    verification: [{ command: "true" }]
    run: |
      touch ${common}/innocent-started
      test ! -e src/bad.txt || { echo "started from an unverified merge"; exit 5; }
      mkdir -p src && echo i > src/innocent.txt && git add -A && git commit -qm innocent && orch task done --summary innocent
`;
    repo = await unconfinedRepo({
      'tasks.yaml': tasks,
      // The check of bad's first merge runs until innocent has started, then fails.
      '.claude-agents.yaml': `verification:
  integration_command: 'if [ -e src/bad.txt ]; then touch ${common}/checking; for i in $(seq 300); do [ -e ${common}/innocent-started ] && break; sleep 0.1; done; exit 1; fi'
`,
    });
    // One worker slot, and a task that is verifying or merging holds none: bad, then blocker while
    // bad is checked, then innocent once blocker pauses.
    const r = await runOrch(['run', '--no-tui', '--yes', '--max-workers', '1'], {
      cwd: repo.root,
      env: tmux.env,
      timeoutMs: 150_000,
    });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const evs = await runEvents(repo.root);
    const at = (pred: (e: (typeof evs)[number]) => boolean): number => evs.findIndex(pred);
    const failedBad = at(
      (e) => e.type === 'task.failed' && e.task === 'bad' && e.category === 'integration_failed',
    );
    const innocentStart = at((e) => e.type === 'task.worktree' && e.task === 'innocent');
    // innocent's worktree was made while bad's landing was being checked...
    expect(failedBad).toBeGreaterThan(-1);
    expect(innocentStart).toBeGreaterThan(-1);
    expect(innocentStart).toBeLessThan(failedBad);
    // ...from the verified tip: staging moves only to a tip whose check passed, never to bad's landing.
    const tipThen = evs
      .slice(0, innocentStart)
      .filter((e) => e.type === 'staging.verified')
      .map((e) => e.commit)
      .at(-1);
    expect(evs[innocentStart]?.baseCommit).toBe(
      tipThen ?? evs.find((e) => e.type === 'run.started')?.stagingCommit,
    );
    for (const m of evs.filter((e) => e.type === 'staging.moved'))
      expect(await has(repo, String(m.to), 'src/bad.txt')).toBe(false);
    expect(evs.some((e) => e.type === 'task.failed' && e.task === 'innocent')).toBe(false);
    expect(await has(repo, 'main', 'src/innocent.txt')).toBe(true);
    expect(await has(repo, 'main', 'src/bad.txt')).toBe(false);
  }, 150_000);

  it('stops the run with a security error when a worker moves staging, and resume does not accept it', async () => {
    repo = await unconfinedRepo({
      'tasks.yaml': plan(`
echo a > a.txt && git add -A && git commit -qm "mine"
git update-ref "refs/heads/orch/$ORCH_RUN/staging" "$(git rev-parse HEAD)"
orch task done --summary "write a.txt"`),
    });
    const before = await repo.git('rev-parse', 'main');
    const r = await runOrch(['run', '--no-tui', '--yes'], {
      cwd: repo.root,
      env: tmux.env,
      timeoutMs: 120_000,
    });
    expect(r.exitCode).not.toBe(0);
    const id = await currentRun(repo.root);
    const moved = await repo.git('rev-parse', `orch/${id}/staging`);
    const out = r.stdout + r.stderr;
    expect(out).toContain('ERR_ORCH_REF_TAMPERED');
    expect(out).toContain(`from ${before}`);
    expect(out).toContain(`to ${moved}`);
    // Nothing was built on it or promoted: main is untouched, staging is where the worker put it.
    expect(await repo.git('rev-parse', 'main')).toBe(before);
    expect(await repo.git('log', '-1', '--format=%s', moved)).toBe('mine');
    const finished = (await runEvents(repo.root)).filter((e) => e.type === 'run.finished');
    expect(finished.at(-1)?.outcome).toBe('failed');
    expect(String(finished.at(-1)?.reason)).toContain('moved by something other than orch');
    const resumed = await runOrch(['state', 'resume', '--no-tui'], { cwd: repo.root, env: tmux.env });
    expect(resumed.exitCode).not.toBe(0);
    expect(resumed.stdout + resumed.stderr).toContain('ERR_ORCH_REF_TAMPERED');
    expect(await repo.git('rev-parse', 'main')).toBe(before);
  });

  it('never runs a hook planted in .git/hooks, through leftovers, merges, checkouts and promotion', async () => {
    repo = await unconfinedRepo({
      // The worker leaves its work uncommitted: orch's leftovers commit makes the commit.
      'tasks.yaml': plan(`
echo a > a.txt
orch task done --summary "write a.txt"`),
    });
    const marker = join(repo.root, 'hooks-ran.log');
    for (const hook of [
      'pre-commit',
      'post-commit',
      'post-checkout',
      'post-merge',
      'reference-transaction',
    ]) {
      const file = join(repo.root, '.git', 'hooks', hook);
      await writeFile(file, `#!/bin/sh\necho ${hook} >> ${JSON.stringify(marker)}\n`);
      await chmod(file, 0o755);
    }
    const r = await runOrch(['run', '--no-tui', '--yes'], {
      cwd: repo.root,
      env: tmux.env,
      timeoutMs: 120_000,
    });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    // Promoted into the user's checkout by fast-forward (post-merge, reference-transaction).
    expect(await repo.git('show', 'main:a.txt')).toBe('a');
    expect(existsSync(join(repo.root, 'a.txt'))).toBe(true);
    expect(existsSync(marker)).toBe(false);
  });
});

/**
 * A hostile `shell` worker inside the OS sandbox (bubblewrap, `workers.sandbox: on`): everything it
 * tries against orch's state, the user's checkout and another task fails, while its own commit and
 * its report still work and its task merges.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { taskBranch } from '@orch/engine';
import { sessionName, socketNameFor } from '@orch/tmux';
import {
  currentRun,
  isolatedTmuxEach,
  runEvents,
  runOrch,
  spawnOrch,
  tempRepo,
  type TempRepo,
} from '@orch/test-utils';

async function waitFor(file: string): Promise<void> {
  for (let i = 0; i < 1200 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(file)) throw new Error(`${file} never appeared`);
}

// Each attempt prints `<name> blocked` when it fails and `<name> WORKED` when it succeeds.
const HOSTILE = `
      try() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name WORKED"; else echo "$name blocked"; fi; }
      while [ ! -e "$ORCH_ROOT/.worktrees/victim/ready" ]; do sleep 0.1; done
      run_dir="$ORCH_ROOT/.orchestrator/runs/$ORCH_RUN"
      mkdir -p out
      {
        try staging-ref git update-ref "refs/heads/orch/$ORCH_RUN/staging" HEAD
        try journal sh -c "echo '{\\"type\\":\\"run.finished\\"}' >> '$run_dir/events.jsonl'"
        try other-worktree sh -c "echo pwned > '$ORCH_ROOT/.worktrees/victim/pwned.txt'"
        try user-checkout sh -c "echo pwned > '$ORCH_ROOT/pwned.txt'"
        try other-channel sh -c "ls '$run_dir/tasks/victim' | grep -q ."
        try run-key cat "$run_dir/journal.key"
        try head-to-main git symbolic-ref HEAD refs/heads/main
        try new-branch git branch evil
        try tmux tmux -L "$ORCH_TEST_SOCKET" send-keys -t "=orch-\${ORCH_RUN}__victim:" 'echo pwned' Enter
        try other-environ sh -c "grep -qs ORCH_TASK=victim /proc/[0-9]*/environ"
      } > out/report.txt
      orch mailbox send victim "hello from bad"
      git add out && git commit -qm "bad: report" && orch task done --summary report`;

describe('OS sandbox', () => {
  let repo: TempRepo;
  const tmux = isolatedTmuxEach(() => repo);

  it('blocks a hostile worker from orch state, the checkout and other tasks; its own work merges', async () => {
    repo = await tempRepo({
      'tasks.yaml': `tasks:
  - id: victim
    agent: shell
    files_write: [victim.txt]
    verification: [{ command: "grep -q 'hello from bad' victim.txt" }]
    run: |
      touch ready
      while [ ! -e release ]; do sleep 0.1; done
      rm -f ready release
      # Its own inbox works inside the sandbox: the hostile worker's greeting arrives.
      for i in $(seq 300); do [ "$(orch mailbox peek)" -gt 0 ] && break; sleep 0.1; done
      orch mailbox check "$ORCH_TASK" > victim.txt
      git add victim.txt && git commit -qm victim && orch task done --summary victim
  - id: bad
    agent: shell
    files_write: [out/report.txt]
    verification: [{ command: "test -s out/report.txt" }]
    run: |${HOSTILE}
`,
      '.claude-agents.yaml':
        'workers:\n  sandbox: "on"\n  env_passthrough: [ORCH_TEST_SOCKET, TMUX_TMPDIR]\n',
      '.gitignore': 'ready\nrelease\n',
    });
    const child = spawnOrch(['run', '--no-tui', '--yes', '--no-promote'], {
      cwd: repo.root,
      env: { ...tmux.env, ORCH_TEST_SOCKET: socketNameFor(repo.root) },
    });
    const run = await (async () => {
      await waitFor(join(repo.root, '.orchestrator', 'current'));
      return currentRun(repo.root);
    })();
    // The hostile worker is done once its branch holds the report; then the victim may finish.
    const badBranch = `refs/heads/${taskBranch(run, 'bad')}`;
    for (let i = 0; i < 1200; i++) {
      const log = await repo.git('log', '--format=%s', badBranch).catch(() => '');
      if (log.includes('bad: report')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // The session the worker aimed at is real: from outside the sandbox it is there.
    const target = ['-L', socketNameFor(repo.root), 'has-session', '-t', `=${sessionName(run, 'victim')}`];
    expect((await execa('tmux', target, { env: tmux.env, reject: false })).exitCode).toBe(0);
    await writeFile(join(repo.root, '.worktrees', 'victim', 'release'), '');
    const r = await child;
    expect(r.exitCode, String(r.stdout)).toBe(0);

    const report = await repo.git('show', `orch/${run}/staging:out/report.txt`);
    expect(report.split('\n')).toEqual([
      'staging-ref blocked',
      'journal blocked',
      'other-worktree blocked',
      'user-checkout blocked',
      'other-channel blocked',
      'run-key blocked',
      'head-to-main blocked',
      'new-branch blocked',
      'tmux blocked',
      'other-environ blocked',
    ]);
    // Nothing of it landed anywhere.
    expect(existsSync(join(repo.root, 'pwned.txt'))).toBe(false);
    expect(await repo.git('show', `orch/${run}/staging:victim.txt`)).toContain('hello from bad');
    expect(await repo.git('ls-tree', '-r', '--name-only', `orch/${run}/staging`)).not.toContain('pwned');
    const events = await runEvents(repo.root, run);
    expect(events.filter((e) => e.type === 'run.finished')).toHaveLength(1);
    expect(
      events
        .filter((e) => e.type === 'task.merged')
        .map((e) => e.task)
        .sort(),
    ).toEqual(['bad', 'victim']);
    const victimLog = await readFile(
      join(repo.root, '.orchestrator', 'runs', run, 'logs', 'victim-1.log'),
      'utf8',
    );
    expect(victimLog).not.toContain('pwned');
  });

  it('without a working bwrap: auto runs unconfined with one notice, on refuses before creating anything', async () => {
    // A bwrap that fails the way it does where user namespaces are off.
    const bin = await mkdtemp(join(tmpdir(), 'orch-nobwrap-'));
    await writeFile(
      join(bin, 'bwrap'),
      '#!/bin/sh\necho "bwrap: No permissions to creating new namespace" >&2\nexit 1\n',
    );
    await chmod(join(bin, 'bwrap'), 0o755);
    const env = { ...tmux.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
    const plan = `tasks:
  - id: one
    agent: shell
    files_write: [one.txt]
    verification: [{ command: "test -s one.txt" }]
    run: |
      echo one > one.txt && git add one.txt && git commit -qm one && orch task done --summary one
`;
    try {
      repo = await tempRepo({ 'tasks.yaml': plan, '.claude-agents.yaml': 'workers:\n  sandbox: "on"\n' });
      const on = await runOrch(['run', '--no-tui', '--yes'], { cwd: repo.root, env });
      expect(on.exitCode).toBe(1);
      expect(on.stderr).toContain('ERR_ORCH_SANDBOX_UNAVAILABLE');
      expect(on.stderr).toContain('No permissions to creating new namespace');
      expect(on.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(repo.root, '.orchestrator', 'runs'))).toBe(false);
      expect(await repo.git('branch', '--list', 'orch/*')).toBe('');
      await repo.cleanup();

      repo = await tempRepo({ 'tasks.yaml': plan });
      const auto = await runOrch(['run', '--no-tui', '--yes', '--no-promote'], { cwd: repo.root, env });
      expect(auto.exitCode, auto.stdout).toBe(0);
      const notes = auto.stdout.split('\n').filter((l) => l.startsWith('note: '));
      expect(notes).toEqual([
        'note: workers run without an OS sandbox: bwrap does not work here: bwrap: No permissions to creating new namespace (workers.sandbox: auto)',
      ]);
      const run = await currentRun(repo.root);
      expect(await repo.git('show', `orch/${run}/staging:one.txt`)).toBe('one');
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });

  it("refuses a task whose worker planted links in its git folders, and orch's git never follows them", async () => {
    repo = await tempRepo({
      'README.md': '# user\n',
      'tasks.yaml': `tasks:
  - id: linker
    agent: shell
    files_write: [linker.txt]
    verification: [{ command: "true" }]
    run: |
      echo left > linker.txt
      common="$(git rev-parse --git-common-dir)"
      ln -sf refs/heads/main "$common/refs/heads/orch/$ORCH_RUN/linker/work"
      ln -sf "$ORCH_ROOT/README.md" "$common/logs/refs/heads/orch/$ORCH_RUN/linker/work"
      orch task done --summary linked
`,
      '.claude-agents.yaml': 'workers:\n  sandbox: "on"\norchestration:\n  max_retries: 0\n',
    });
    const main = await repo.git('rev-parse', 'main');
    const r = await runOrch(['run', '--no-tui', '--yes'], { cwd: repo.root, env: tmux.env });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(
      /linker failed \(boundary_violation\): the worker planted links in git's folders/,
    );
    // The user's branch and checkout are untouched: orch's leftovers commit never ran through the link.
    expect(await repo.git('rev-parse', 'main')).toBe(main);
    expect(await readFile(join(repo.root, 'README.md'), 'utf8')).toBe('# user\n');
    expect(await repo.git('status', '--porcelain')).toBe('');
  });
});

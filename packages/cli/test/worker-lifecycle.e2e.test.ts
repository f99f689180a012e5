import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliWorld, currentRun, orchSessions, runOrch, spawnOrch } from '@orch/test-utils';

// Each test runs in a world of its own (repository, tmux folder): they run side by side.
describe.concurrent('worker lifecycle', () => {
  it('bootstraps each worktree: copied and symlinked files, setup commands, distinct port blocks', async (t) => {
    const task = (id: string): string => `
  - id: ${id}
    agent: shell
    files_write: [out/${id}.txt]
    verification: [{ command: "test -s out/${id}.txt" }]
    run: |
      mkdir -p out
      { echo "port=$ORCH_PORT_BASE"; cat .env; cat local.cfg; test -L node_modules && echo linked; cat setup.txt; } > out/${id}.txt
      git add out && git commit -qm ${id} && orch task done --summary ${id}`;
    const world = await cliWorld({
      'tasks.yaml': `tasks:${task('one')}${task('two')}\n`,
      '.gitignore': '.env\nlocal.cfg\nnode_modules\nsetup.txt\n',
      '.worktreeinclude': '# files copied into every worktree\nlocal.cfg\n',
      '.claude-agents.yaml': [
        'worktree:',
        '  copy: [.env]',
        '  symlink: [node_modules]',
        '  setup: ["echo set-up > setup.txt"]',
        'orchestration:',
        '  base_port: 31000',
        '  ports_per_task: 5',
        '',
      ].join('\n'),
    });
    t.onTestFinished(() => world.cleanup());
    const repo = world.repo;
    await writeFile(join(repo.root, '.env'), 'SECRET=from-user\n');
    await writeFile(join(repo.root, 'local.cfg'), 'cfg=1\n');
    await mkdir(join(repo.root, 'node_modules'));
    const r = await runOrch(['run', '--no-tui', '--yes', '--no-promote'], {
      cwd: repo.root,
      env: world.env,
      timeoutMs: 120_000,
    });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const run = await currentRun(repo.root);
    const one = await repo.git('show', `orch/${run}/staging:out/one.txt`);
    const two = await repo.git('show', `orch/${run}/staging:out/two.txt`);
    expect(one).toBe('port=31000\nSECRET=from-user\ncfg=1\nlinked\nset-up');
    expect(two).toBe('port=31005\nSECRET=from-user\ncfg=1\nlinked\nset-up');
    // --no-promote leaves main where it was.
    expect(await repo.git('log', '--format=%s', 'main')).toBe('initial');
  });

  it('stops a worker that runs past its timeout, keeps its log, and fails it with that reason', async (t) => {
    // The deadline runs from the launch: 8 s leave a loaded machine time to start the wrapper and
    // its shell (the log line below) and still stop the 60-s sleep long before it ends.
    const world = await cliWorld({
      'tasks.yaml': `tasks:
  - id: slow
    agent: shell
    timeout: 8
    files_write: [slow.txt]
    verification: [{ command: "true" }]
    run: |
      echo starting slowly
      sleep 60
`,
      '.claude-agents.yaml': 'orchestration:\n  max_retries: 0\n',
    });
    t.onTestFinished(() => world.cleanup());
    const repo = world.repo;
    const r = await runOrch(['run', '--no-tui', '--yes'], {
      cwd: repo.root,
      env: world.env,
      timeoutMs: 120_000,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/slow failed \(timeout\): the task ran longer than its timeout of 8 s/);
    const run = await currentRun(repo.root);
    const log = await readFile(join(repo.root, '.orchestrator', 'runs', run, 'logs', 'slow-1.log'), 'utf8');
    expect(log).toMatch(/starting slowly/);
    const report = await readFile(
      join(repo.root, '.orchestrator', 'runs', run, 'escalation-report.md'),
      'utf8',
    );
    expect(report).toMatch(/### slow: failed/);
    expect(report).toMatch(/orch state resume --run/);
    // The worker's session is gone; its worktree is kept for inspection.
    expect(await orchSessions(repo.root, world.env)).toEqual([]);
    expect(existsSync(join(repo.root, '.worktrees', 'slow'))).toBe(true);
  });

  it('detects a worker that exits non-zero without reporting, and fails it with its log tail', async (t) => {
    const world = await cliWorld({
      'tasks.yaml': `tasks:
  - id: quiet
    agent: shell
    files_write: [q.txt]
    verification: [{ command: "true" }]
    run: |
      echo "something went wrong" >&2
      exit 7
`,
      '.claude-agents.yaml': 'orchestration:\n  max_retries: 0\n',
    });
    t.onTestFinished(() => world.cleanup());
    const repo = world.repo;
    const r = await runOrch(['run', '--no-tui', '--yes'], {
      cwd: repo.root,
      env: world.env,
      timeoutMs: 120_000,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/quiet failed \(agent_failed\): the worker exited with code 7/);
    // The failure carries the log tail: the report says why, not just that it failed.
    const run = await currentRun(repo.root);
    const report = await readFile(
      join(repo.root, '.orchestrator', 'runs', run, 'escalation-report.md'),
      'utf8',
    );
    expect(report).toMatch(/Last lines of its output:\n[^]*something went wrong/);
    const status = JSON.parse(
      (await runOrch(['state', 'status', '--json'], { cwd: repo.root, env: world.env })).stdout,
    ) as {
      tasks: { id: string; evidence: { source: string } }[];
    };
    expect(status.tasks[0]!.evidence.source).toBe('process-exit');
  });

  it('Ctrl-C stops scheduling and workers, keeps worktrees and journal, and resume finishes the run', async (t) => {
    const world = await cliWorld({
      'tasks.yaml': `tasks:
  - id: long
    agent: shell
    files_write: [long.txt]
    verification: [{ command: "test -s long.txt" }]
    run: |
      if [ "$ORCH_ATTEMPT" = 1 ]; then orch task progress "halfway"; sleep 60; fi
      echo done > long.txt && git add -A && git commit -qm long && orch task done --summary long
`,
    });
    t.onTestFinished(() => world.cleanup());
    const repo = world.repo;
    const child = spawnOrch(['run', '--no-tui', '--yes'], { cwd: repo.root, env: world.env });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const s = await runOrch(['state', 'status', '--json'], { cwd: repo.root, env: world.env });
      if (s.exitCode === 0 && /halfway/.test(s.stdout)) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    child.kill('SIGINT');
    const stopped = await child;
    expect(stopped.exitCode).toBe(4);
    expect(String(stopped.stdout)).toMatch(/orch state resume --run/);
    expect(await orchSessions(repo.root, world.env)).toEqual([]);
    expect(existsSync(join(repo.root, '.worktrees', 'long'))).toBe(true);
    const resumed = await runOrch(['state', 'resume'], {
      cwd: repo.root,
      env: world.env,
      timeoutMs: 120_000,
    });
    expect(resumed.stdout).toMatch(/long\s+running\s+restart/);
    expect(resumed.exitCode).toBe(0);
    expect(await repo.git('show', 'main:long.txt')).toBe('done');
    // The restarted worker was told it had been interrupted, with its last progress message.
    const run = await currentRun(repo.root);
    const prompt = await readFile(
      join(repo.root, '.orchestrator', 'runs', run, 'tasks', 'long', 'prompt-2.md'),
      'utf8',
    );
    expect(prompt).toMatch(/You were interrupted/);
    expect(prompt).toMatch(/- halfway/);
  });
});

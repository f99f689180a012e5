/**
 * `orch state resume` from the outside: the dry run says what it will do task by task and changes
 * nothing; the real resume finishes the run; a finished run has nothing to resume.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isolatedTmux, runOrch, spawnOrch, tempRepo, type TempRepo } from '@orch/test-utils';

/** `a` waits for a file the test creates, so the run is caught with a worker mid-task; `b` depends on it. */
const PLAN = `request: resume from the CLI
tasks:
  - id: a
    agent: shell
    files_write: [src/a.txt]
    verification: [{ command: "test -s src/a.txt" }]
    run: |
      orch task progress "waiting for the go file"
      while [ ! -f "$ORCH_ROOT/go" ]; do sleep 0.1; done
      mkdir -p src && echo a > src/a.txt && git add -A && git commit -qm a
      orch task done --summary "a done"
  - id: b
    agent: shell
    files_write: [src/b.txt]
    depends_on: [a]
    verification: [{ command: "test -s src/b.txt" }]
    run: |
      mkdir -p src && echo b > src/b.txt && git add -A && git commit -qm b
      orch task done --summary "b done"
`;

describe('orch state resume', () => {
  let repo: TempRepo;
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;

  beforeEach(async () => {
    repo = await tempRepo({ 'README.md': '# r\n', 'tasks.yaml': PLAN, '.gitignore': 'go\n' });
    tmux = await isolatedTmux();
  });
  afterEach(async () => {
    await tmux.cleanup();
    await repo.cleanup();
  });

  it('plans (dry run), then resumes a killed run, leaving the live worker running', async () => {
    const proc = spawnOrch(['run', 'tasks.yaml', '--no-tui', '--yes'], { cwd: repo.root, env: tmux.env });
    let run = '';
    let events = '';
    for (let i = 0; i < 600 && !events.includes('waiting for the go file'); i += 1) {
      await sleep(50);
      run = (await readFile(join(repo.root, '.orchestrator', 'current'), 'utf8').catch(() => '')).trim();
      if (run)
        events = await readFile(join(repo.root, '.orchestrator', 'runs', run, 'events.jsonl'), 'utf8').catch(
          () => '',
        );
    }
    expect(events).toMatch(/waiting for the go file/);
    proc.kill('SIGKILL');
    await proc;

    const journal = join(repo.root, '.orchestrator', 'runs', run, 'events.jsonl');
    const before = await readFile(journal, 'utf8');
    const dry = await runOrch(['state', 'resume', '--dry-run', '--json'], { cwd: repo.root, env: tmux.env });
    expect(dry.exitCode, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as {
      dryRun: boolean;
      items: { task: string; action: string; detail: string }[];
    };
    expect(plan.dryRun).toBe(true);
    expect(plan.items.map((i) => [i.task, i.action])).toEqual([
      ['a', 'watch'],
      ['b', 'schedule'],
    ]);
    expect(await readFile(journal, 'utf8')).toBe(before);

    const text = await runOrch(['state', 'resume', '--dry-run'], { cwd: repo.root, env: tmux.env });
    expect(text.stdout).toMatch(/Resume would/);
    expect(text.stdout).toMatch(/a\s+running\s+watch\s+worker session alive/);

    const resumed = spawnOrch(['state', 'resume', '--no-tui'], { cwd: repo.root, env: tmux.env });
    await sleep(500);
    await repo.write('go', '');
    const r = await resumed;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toMatch(/succeeded/);
    // The worker that was watched again finished its own attempt: no second attempt was started.
    const final = await runOrch(['state', 'status', '--json'], { cwd: repo.root, env: tmux.env });
    const s = JSON.parse(final.stdout) as {
      phase: string;
      tasks: { id: string; attempt: number; status: string }[];
    };
    expect(s.phase).toBe('succeeded');
    expect(s.tasks.map((t) => [t.id, t.status, t.attempt])).toEqual([
      ['a', 'merged', 1],
      ['b', 'merged', 1],
    ]);

    const again = await runOrch(['state', 'resume'], { cwd: repo.root, env: tmux.env });
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/has finished \(succeeded\); there is nothing to resume/);
  }, 180_000);

  it('says an aborted run was aborted and has nothing to resume', async () => {
    const started = await runOrch(['run', 'tasks.yaml', '--detach', '--yes'], {
      cwd: repo.root,
      env: tmux.env,
    });
    expect(started.exitCode, started.stderr).toBe(0);
    const run = (await readFile(join(repo.root, '.orchestrator', 'current'), 'utf8')).trim();
    const journal = join(repo.root, '.orchestrator', 'runs', run, 'events.jsonl');
    for (let i = 0; i < 600 && !(await readFile(journal, 'utf8')).includes('waiting for the go file'); i += 1)
      await sleep(50);
    const aborted = await runOrch(['state', 'abort', '--yes'], { cwd: repo.root, env: tmux.env });
    expect(aborted.exitCode, aborted.stderr).toBe(0);
    for (const args of [
      ['state', 'resume'],
      ['state', 'resume', '--dry-run'],
    ]) {
      const r = await runOrch(args, { cwd: repo.root, env: tmux.env });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/ERR_ORCH_RUN_ABORTED: Run \S+ was aborted .*; it has nothing to resume/);
      expect(r.stderr).toMatch(/hint: Start the plan again with `orch run tasks.yaml`/);
      expect(r.stderr).not.toMatch(/REF_NOT_FOUND|does not name an object/);
    }
  });

  it('explains itself in --help', async () => {
    const r = await runOrch(['state', 'resume', '--help'], { cwd: repo.root, env: tmux.env });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/--dry-run/);
    expect(r.stdout).toMatch(/Examples?:\n\s+\$ orch state resume/);
  });
});

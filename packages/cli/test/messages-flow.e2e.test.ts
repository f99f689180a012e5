import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runEvents, runOrch, tmuxRepo } from '@orch/test-utils';

const PLAN = `request: typed messages change the run
tasks:
  - id: api
    agent: shell
    files_write: [src/api.txt]
    verification: [{ command: "test -s src/api.txt" }]
    run: |
      sleep 2
      mkdir -p src && echo v2 > src/api.txt
      git add -A && git commit -qm api && orch task done --summary api
  - id: ui
    agent: shell
    files_write: [src/ui.txt]
    verification: [{ command: "test -s src/ui.txt" }]
    run: |
      if [ ! -f src/api.txt ]; then
        orch mailbox send supervisor "I need the new api first" --type blocked-on --task api
        sleep 60
        exit 1
      fi
      orch mailbox send supervisor "light or dark theme?" --type needs-decision
      mkdir -p src && echo "ui on $(cat src/api.txt)" > src/ui.txt
      git add -A && git commit -qm ui && orch task done --summary ui
`;

// Each test runs in a repository and a tmux folder of its own (tmuxRepo): they run side by side.
describe.concurrent('typed mailbox messages in a real run', () => {
  it('blocked-on pauses the sender until the task it names is merged, then restarts it on the new staging', async (t) => {
    const { repo, env } = await tmuxRepo(t, { 'tasks.yaml': PLAN });
    const r = await runOrch(['run', '--no-tui', '--yes'], {
      cwd: repo.root,
      env,
      timeoutMs: 120_000,
    });
    expect(r.exitCode).toBe(0);
    expect(await repo.git('show', 'main:src/ui.txt')).toBe('ui on v2');
    const status = JSON.parse(
      (await runOrch(['state', 'status', '--json'], { cwd: repo.root, env })).stdout,
    ) as {
      tasks: { id: string; status: string; attempt: number }[];
    };
    // ui's first attempt was stopped (not failed) and the second ran after api was merged.
    expect(status.tasks.find((t) => t.id === 'ui')).toMatchObject({ status: 'merged', attempt: 2 });
    expect(r.stdout).toMatch(/ui blocked: waits for api/);
    // needs-decision reached the journal as an open question on the sender.
    const events = await runEvents(repo.root);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'task.attention', task: 'ui', reason: 'light or dark theme?' }),
    );
  });

  it('refuses a blocked-on that could never end', async (t) => {
    const { repo, env } = await tmuxRepo(t, { 'tasks.yaml': PLAN });
    const started = await runOrch(['run', '--detach', '--yes'], { cwd: repo.root, env });
    expect(started.exitCode).toBe(0);
    try {
      const self = await runOrch(
        ['mailbox', 'send', 'supervisor', 'x', '--type', 'blocked-on', '--task', 'ui', '--from', 'ui'],
        {
          cwd: repo.root,
          env,
        },
      );
      expect(self.exitCode).toBe(2);
      expect(self.stderr).toMatch(/ui cannot wait for ui: a task cannot wait for itself/);
      const unknown = await runOrch(
        ['mailbox', 'send', 'supervisor', 'x', '--type', 'blocked-on', '--task', 'nope', '--from', 'ui'],
        {
          cwd: repo.root,
          env,
        },
      );
      expect(unknown.exitCode).toBe(2);
      expect(unknown.stderr).toMatch(/nope is not a task of run/);
    } finally {
      await runOrch(['state', 'abort', '--yes'], { cwd: repo.root, env });
    }
  });

  it('unread mail is put in a worker’s prompt, and then counts as read', async (t) => {
    const { repo, env } = await tmuxRepo(t, {
      'tasks.yaml': `tasks:
  - id: a
    agent: shell
    files_write: [a.txt]
    verification: [{ command: "true" }]
    run: |
      while [ ! -f "$ORCH_ROOT/.go" ]; do sleep 0.2; done
      echo a > a.txt && git add -A && git commit -qm a && orch task done --summary a
  - id: b
    agent: shell
    depends_on: [a]
    files_write: [b.txt]
    verification: [{ command: "true" }]
    run: echo b > b.txt && git add -A && git commit -qm b && orch task done --summary b
`,
    });
    expect((await runOrch(['run', '--detach', '--yes'], { cwd: repo.root, env })).exitCode).toBe(0);
    const sent = await runOrch(['mailbox', 'send', 'b', 'the schema changed', '--json'], {
      cwd: repo.root,
      env,
    });
    expect(sent.exitCode).toBe(0);
    await writeFile(`${repo.root}/.go`, '');
    const waited = await runOrch(['wait', '--timeout', '120'], { cwd: repo.root, env, timeoutMs: 130_000 });
    expect(waited.exitCode).toBe(0);
    const status = JSON.parse(
      (await runOrch(['state', 'status', '--json'], { cwd: repo.root, env })).stdout,
    ) as {
      tasks: { id: string; promptPath?: string }[];
    };
    const prompt = status.tasks.find((t) => t.id === 'b')?.promptPath;
    expect(await readFile(prompt!, 'utf8')).toContain('the schema changed');
    const peek = await runOrch(['mailbox', 'peek', 'b', '--json'], { cwd: repo.root, env });
    expect(JSON.parse(peek.stdout)).toEqual({ inbox: 'b', unread: 0 });
  }, 180_000);
});

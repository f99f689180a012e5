import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliWorld, type CliWorld, currentRun, runEvents, runOrch, type TempRepo } from '@orch/test-utils';

const NO_RETRIES = 'orchestration:\n  max_retries: 0\n';

describe('done signals: how a worker that just exits is judged', () => {
  let world: CliWorld;
  let repo: TempRepo;
  afterEach(async () => {
    await world.cleanup();
  });

  const run = (): ReturnType<typeof runOrch> =>
    runOrch(['run', '--no-tui', '--yes'], { cwd: repo.root, env: world.env, timeoutMs: 120_000 });

  it('merges a shell worker that commits and exits 0 without `orch task done`, with process-exit evidence', async () => {
    world = await cliWorld({
      'tasks.yaml': `tasks:
  - id: quiet
    agent: shell
    files_write: [q.txt]
    verification: [{ command: "test -s q.txt" }]
    run: echo q > q.txt && git add q.txt && git commit -qm q
  - id: uncommitted
    agent: shell
    files_write: [u.txt]
    verification: [{ command: "test -s u.txt" }]
    run: echo u > u.txt
`,
      '.claude-agents.yaml': NO_RETRIES,
    });
    repo = world.repo;
    const r = await run();
    expect(r.exitCode).toBe(0);
    expect(await repo.git('show', 'main:q.txt')).toBe('q');
    // Changes left in the worktree count as work too: orch commits them before verification.
    expect(await repo.git('show', 'main:u.txt')).toBe('u');
    const done = (await runEvents(repo.root)).filter((e) => e.type === 'task.reported');
    expect(done.map((e) => [e.task, e.status, (e.evidence as { source: string }).source]).sort()).toEqual([
      ['quiet', 'done', 'process-exit'],
      ['uncommitted', 'done', 'process-exit'],
    ]);
  });

  it('fails a worker that exits 0 having changed nothing, unless the task allows it', async () => {
    world = await cliWorld({
      'tasks.yaml': `tasks:
  - id: idle
    agent: shell
    files_write: [i.txt]
    verification: [{ command: "true" }]
    run: echo "looked around, did nothing"
  - id: reported
    agent: shell
    files_write: [r.txt]
    verification: [{ command: "true" }]
    run: orch task done
  - id: check-only
    agent: shell
    allow_empty: true
    files_write: [c.txt]
    verification: [{ command: "true" }]
    run: echo "checked"
`,
      '.claude-agents.yaml': NO_RETRIES,
    });
    repo = world.repo;
    const r = await run();
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/idle failed \(agent_failed\): the worker exited 0 but changed nothing/);
    // `orch task done` (no summary needed) with nothing changed is no silent no-op merge either.
    expect(r.stdout).toMatch(/reported failed \(agent_failed\): the task changed nothing/);
    const s = JSON.parse(
      (await runOrch(['state', 'status', '--json'], { cwd: repo.root, env: world.env })).stdout,
    ) as { tasks: { id: string; status: string }[] };
    expect(Object.fromEntries(s.tasks.map((t) => [t.id, t.status]))).toEqual({
      idle: 'failed',
      reported: 'failed',
      'check-only': 'merged',
    });
  });

  it('gives a retried script its earlier attempt’s commits', async () => {
    world = await cliWorld({
      'tasks.yaml': `tasks:
  - id: twice
    agent: shell
    files_write: [t.txt]
    verification: [{ command: "grep -q fixed t.txt" }]
    run: |
      if [ "$ORCH_ATTEMPT" = 1 ]; then
        echo first > t.txt && git add t.txt && git commit -qm "attempt 1"
      else
        git log --format=%s | grep -qx "attempt 1" || { echo "attempt 1's commit is missing"; exit 9; }
        test "$(cat t.txt)" = first || exit 8
        echo fixed > t.txt && git commit -qam "attempt 2" && orch task done "fixed on the retry"
      fi
`,
    });
    repo = world.repo;
    const r = await run();
    expect(r.exitCode).toBe(0);
    expect(await repo.git('show', 'main:t.txt')).toBe('fixed');
    // Squashed onto staging: one landing, of the second attempt (the script checked attempt 1's commit).
    expect(
      (await repo.git('log', '-1', '--format=%(trailers:key=Orch-Attempt,valueonly)', 'main')).trim(),
    ).toBe('2');
    const prompt = await readFile(
      join(repo.root, '.orchestrator', 'runs', await currentRun(repo.root), 'tasks', 'twice', 'prompt-2.md'),
      'utf8',
    );
    expect(prompt).toMatch(/Command failed: grep -q fixed t.txt/);
  });

  it('takes codex and gemini by their result event and aider by its exit, with orch committing their edits', async () => {
    world = await cliWorld({
      'tasks.yaml': `tasks:
${['codex', 'gemini', 'aider']
  .map(
    (a) => `  - id: by-${a}
    agent: ${a}
    files_write: [${a}.txt]
    verification: [{ command: "test -s ${a}.txt" }]
`,
  )
  .join('')}`,
      '.claude-agents.yaml': NO_RETRIES,
    });
    repo = world.repo;
    // Stand-ins for the real CLIs: each edits one file (no commit, no `orch task`) and ends the way
    // the real one does: codex's turn.completed stream, gemini's result event, aider's plain exit.
    const bin = join(repo.root, '.git', 'fake-bin');
    await mkdir(bin);
    const fake = async (name: string, body: string): Promise<void> => {
      await writeFile(join(bin, name), `#!/bin/sh\ncat > /dev/null\n${body}\n`);
      await chmod(join(bin, name), 0o755);
    };
    await fake(
      'codex',
      `echo edited > codex.txt
echo '{"type":"thread.started","thread_id":"t1"}'
echo '{"type":"item.completed","item":{"type":"agent_message","text":"wrote codex.txt"}}'
echo '{"type":"turn.completed","usage":{"input_tokens":10,"output_tokens":2}}'`,
    );
    await fake(
      'gemini',
      // Headless Gemini refuses a folder it does not trust (exit 55) unless told to trust it.
      `[ "$GEMINI_CLI_TRUST_WORKSPACE" = true ] || { echo "not a trusted directory" >&2; exit 55; }
echo edited > gemini.txt
echo '{"type":"init","session_id":"s1","model":"gemini-2.5-pro"}'
echo '{"type":"result","status":"success","stats":{"input_tokens":10,"output_tokens":2}}'`,
    );
    await fake('aider', 'echo edited > aider.txt\necho "Applied edit to aider.txt"');
    const r = await runOrch(['run', '--no-tui', '--yes', '--max-workers', '3'], {
      cwd: repo.root,
      env: { ...world.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
      timeoutMs: 120_000,
    });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    for (const a of ['codex', 'gemini', 'aider'])
      expect(await repo.git('show', `main:${a}.txt`)).toBe('edited');
    const done = (await runEvents(repo.root)).filter((e) => e.type === 'task.reported');
    expect(Object.fromEntries(done.map((e) => [e.task, (e.evidence as { source: string }).source]))).toEqual({
      'by-codex': 'agent-result',
      'by-gemini': 'agent-result',
      'by-aider': 'process-exit',
    });
  });
});

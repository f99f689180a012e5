import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliWorld, type CliWorld, currentRun, runOrch, type TempRepo } from '@orch/test-utils';

describe('retries that can succeed, reports that say why', () => {
  let world: CliWorld;
  let repo: TempRepo;
  afterEach(async () => {
    await world.cleanup();
  });

  const run = (): ReturnType<typeof runOrch> =>
    runOrch(['run', '--no-tui', '--yes', '--max-workers', '2'], {
      cwd: repo.root,
      env: world.env,
      timeoutMs: 120_000,
    });
  const runFile = async (...parts: string[]): Promise<string> =>
    readFile(join(repo.root, '.orchestrator', 'runs', await currentRun(repo.root), ...parts), 'utf8');
  const status = async (): Promise<string> =>
    (await runOrch(['state', 'status'], { cwd: repo.root, env: world.env })).stdout;

  it('retries an integration failure with staging merged in, the failing command, its output and the merges since its base', async () => {
    const check =
      'if test -e src/good.txt && test -e src/bad.txt; then echo "bad.txt clashes with good.txt"; exit 1; fi';
    world = await cliWorld({
      'tasks.yaml': `tasks:
  - id: good
    agent: shell
    files_write: [src/good.txt]
    verification: [{ command: "true" }]
    run: mkdir -p src && echo ok > src/good.txt && git add -A && git commit -qm good
  - id: bad
    agent: shell
    files_write: [src/bad.txt, src/fixed.txt]
    verification: [{ command: "true" }]
    run: |
      if [ "$ORCH_ATTEMPT" = 1 ]; then
        # Start from a base without good, and merge only after good is on staging.
        until git log --format=%b "orch/$ORCH_RUN/staging" | grep -qx "Orch-Task: good"; do sleep 0.2; done
        mkdir -p src && echo broken > src/bad.txt && git add -A && git commit -qm "bad 1"
      else
        test -e src/good.txt || { echo "staging was not merged into the retry's worktree"; exit 9; }
        sh -c '${check.replace(/'/g, `'\\''`)}' && exit 8
        git rm -q src/bad.txt && echo ok > src/fixed.txt && git add -A && git commit -qm "bad 2"
        sh -c '${check.replace(/'/g, `'\\''`)}'
      fi
`,
      '.claude-agents.yaml': `verification:\n  integration_command: '${check}'\n`,
    });
    repo = world.repo;
    const r = await run();
    expect(r.exitCode, r.stdout).toBe(0);
    expect(await repo.git('ls-tree', '--name-only', '-r', 'main', 'src')).toBe('src/fixed.txt\nsrc/good.txt');
    const prompt = await runFile('tasks', 'bad', 'prompt-2.md');
    expect(prompt).toContain(`$ ${check}`);
    expect(prompt).toContain('bad.txt clashes with good.txt');
    expect(prompt).toContain('Merged into staging since your base: good.');
    expect(prompt).toContain('Current staging has been merged into your worktree');
  });

  it('reports a failed check by its output, not by the worker’s last log line', async () => {
    world = await cliWorld({
      'tasks.yaml': `tasks:
  - id: sums
    agent: shell
    files_write: [sum.txt]
    verification: [{ command: "echo 'EXPECTED 42 GOT 41'; exit 1" }]
    run: echo 41 > sum.txt && git add -A && git commit -qm sum && orch task done --summary sum
`,
      '.claude-agents.yaml': 'orchestration:\n  max_retries: 0\n',
    });
    repo = world.repo;
    const r = await run();
    expect(r.exitCode).toBe(1);
    const report = await runFile('escalation-report.md');
    expect(report).toContain('EXPECTED 42 GOT 41');
    expect(report).not.toContain('recorded done for task');
    expect(await status()).toContain('EXPECTED 42 GOT 41');
  });

  it('names the out-of-bounds paths and how to put them back, in the retry prompt and the report', async () => {
    world = await cliWorld({
      'tasks.yaml': `tasks:
  - id: stray
    agent: shell
    files_write: [own.txt]
    verification: [{ command: "true" }]
    run: |
      if [ "$ORCH_ATTEMPT" = 1 ]; then
        echo own > own.txt && echo edit >> README.md && echo x > extra.txt && git add -A && git commit -qm stray
      else
        orch task fail --reason "giving up to end the test"
      fi
`,
      '.claude-agents.yaml': 'orchestration:\n  max_retries: 1\n',
    });
    repo = world.repo;
    const r = await run();
    expect(r.exitCode).toBe(1);
    const prompt = await runFile('tasks', 'stray', 'prompt-2.md');
    expect(prompt).toMatch(/outside files_write: README\.md, extra\.txt/);
    expect(prompt).toMatch(/Paths changed outside your files_write:\n- README\.md .*\n- extra\.txt/);
    expect(prompt).toMatch(/git restore --source=[0-9a-f]{40} --staged --worktree -- README\.md extra\.txt/);
    expect(prompt).toMatch(/a fix-up commit on top of your work is enough/);
  });

  it('shows the offending paths of a final boundary violation in the report and in `orch state status`', async () => {
    world = await cliWorld({
      'tasks.yaml': `tasks:
  - id: stray
    agent: shell
    files_write: [own.txt]
    verification: [{ command: "true" }]
    run: echo own > own.txt && echo edit >> README.md && git add -A && git commit -qm stray && orch task done
`,
      '.claude-agents.yaml': 'orchestration:\n  max_retries: 0\n',
    });
    repo = world.repo;
    const r = await run();
    expect(r.exitCode).toBe(1);
    const report = await runFile('escalation-report.md');
    expect(report).toMatch(/- README\.md \(not in files_write or files_append\)/);
    expect(report).toMatch(/git restore --source=[0-9a-f]{40} --staged --worktree -- README\.md/);
    expect(report).not.toContain('recorded done for task');
    expect(await status()).toMatch(/stray .*failed.*outside files_write: README\.md/);
  });
});

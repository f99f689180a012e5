import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { cliWorld, type CliWorld, currentRun, runOrch, type TempRepo } from '@orch/test-utils';

const CONTRACT = '// Contract: Api\n// Version: 1.0.0\nexport interface Api { hello(): string }\n';

const plan = (extra = ''): string => `contracts:
  - { name: Api, version: "1.0.0", file_path: contracts/api.ts }
tasks:
  - id: a
    agent: shell
    files_write: [a.txt]
    contracts_used: [Api]
    verification: [{ command: "test -s a.txt && test -s contracts/api.ts" }]
    run: echo theirs > a.txt && git add a.txt && git commit -qm a
${extra}`;

/** The command a stopped promotion printed, run exactly as printed by a shell. */
function printedCommand(stdout: string): string {
  const m = /^\s*run: (.+)$/m.exec(stdout);
  expect(m, stdout).not.toBeNull();
  return m![1]!;
}

describe('promotion into the user’s checkout', () => {
  let world: CliWorld;
  let repo: TempRepo;
  afterEach(async () => {
    await world.cleanup();
  });

  const run = (): ReturnType<typeof runOrch> =>
    runOrch(['run', '--no-tui', '--yes'], { cwd: repo.root, env: world.env, timeoutMs: 120_000 });

  it('promotes a run whose plan and contracts are untracked, leaving both byte-identical', async () => {
    world = await cliWorld({ 'README.md': '# project\n' });
    repo = world.repo;
    // As `/orchestrate` or `orch plan -o tasks.yaml` leave them: untracked at the root.
    const planText = plan();
    await writeFile(join(repo.root, 'tasks.yaml'), planText);
    await repo.write('contracts/api.ts', CONTRACT);
    const r = await run();
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const runId = await currentRun(repo.root);
    expect(await repo.git('rev-parse', 'main')).toBe(await repo.git('rev-parse', `orch/${runId}/staging`));
    expect(await repo.git('show', 'main:a.txt')).toBe('theirs');
    // The plan was never committed: still untracked, byte for byte what the user wrote.
    expect(await readFile(join(repo.root, 'tasks.yaml'), 'utf8')).toBe(planText);
    expect(await repo.git('status', '--porcelain', '--', 'tasks.yaml')).toBe('?? tasks.yaml');
    expect(await repo.git('ls-tree', '--name-only', 'main', 'tasks.yaml')).toBe('');
    // The contract workers needed is on main now, with the bytes the user had.
    expect(await readFile(join(repo.root, 'contracts/api.ts'), 'utf8')).toBe(CONTRACT);
    expect(await repo.git('show', 'main:contracts/api.ts')).toBe(CONTRACT.trimEnd());
    expect(await repo.git('status', '--porcelain')).toBe('?? tasks.yaml');
  });

  it('never overwrites a tracked plan edited and not committed: says so at the start, and the printed command works', async () => {
    world = await cliWorld({ 'tasks.yaml': plan(), 'contracts/api.ts': CONTRACT });
    repo = world.repo;
    const before = await repo.git('rev-parse', 'main');
    const edited = `${plan()}# an edit of mine, not committed\n`;
    await writeFile(join(repo.root, 'tasks.yaml'), edited);
    const r = await run();
    expect(r.exitCode).toBe(3);
    // Announced before any task ran, not only at the end.
    const note = r.stdout.indexOf('has uncommitted changes (tasks.yaml)');
    expect(note).toBeGreaterThan(-1);
    expect(note).toBeLessThan(r.stdout.indexOf('promotion stopped'));
    expect(await repo.git('rev-parse', 'main')).toBe(before);
    expect(await readFile(join(repo.root, 'tasks.yaml'), 'utf8')).toBe(edited);

    const cmd = printedCommand(r.stdout);
    const ff = await execa('sh', ['-c', cmd], { cwd: '/', reject: false });
    expect(ff.exitCode, ff.stderr).toBe(0);
    const runId = await currentRun(repo.root);
    expect(await repo.git('rev-parse', 'main')).toBe(await repo.git('rev-parse', `orch/${runId}/staging`));
    expect(await readFile(join(repo.root, 'a.txt'), 'utf8')).toBe('theirs\n');
    // The edit is still there, still uncommitted.
    expect(await readFile(join(repo.root, 'tasks.yaml'), 'utf8')).toBe(edited);
    expect(await repo.git('status', '--porcelain')).toBe(' M tasks.yaml');
  });

  it('stops when a file of the user’s is in the run’s way, and the printed command keeps it in a stash', async () => {
    world = await cliWorld({ 'README.md': '# project\n' });
    repo = world.repo;
    await writeFile(join(repo.root, 'tasks.yaml'), plan());
    await repo.write('contracts/api.ts', CONTRACT);
    await writeFile(join(repo.root, 'a.txt'), 'mine\n'); // untracked; the task creates a.txt too
    await writeFile(join(repo.root, 'README.md'), '# project\nlocal edit\n');
    const r = await run();
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toMatch(/the run also changes a\.txt/);
    expect(await readFile(join(repo.root, 'a.txt'), 'utf8')).toBe('mine\n');

    const ff = await execa('sh', ['-c', printedCommand(r.stdout)], { cwd: '/', reject: false });
    expect(ff.exitCode, ff.stderr).toBe(0);
    expect(await readFile(join(repo.root, 'a.txt'), 'utf8')).toBe('theirs\n');
    expect(await readFile(join(repo.root, 'contracts/api.ts'), 'utf8')).toBe(CONTRACT);
    expect(await readFile(join(repo.root, 'README.md'), 'utf8')).toBe('# project\nlocal edit\n');
    // The user's a.txt is in the stash, not lost.
    const stashed = await repo.git('show', 'stash@{0}^3:a.txt');
    expect(stashed).toBe('mine');
  });
});

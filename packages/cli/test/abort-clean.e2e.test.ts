import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { cliWorld, currentRun, type CliWorld, type TempRepo } from '@orch/test-utils';

interface Status {
  phase: string;
  outcome: string | null;
  tasks: { id: string; worktree?: string; lastMessage?: string }[];
}

describe('abort keeps the user’s work; clean removes finished runs on request', () => {
  let world: CliWorld;
  let repo: TempRepo;
  afterEach(async () => {
    await world.cleanup();
  });
  const orch = (...args: string[]) => world.orch(args);
  const status = async (): Promise<Status> =>
    JSON.parse((await orch('state', 'status', '--json')).stdout) as Status;

  it('a worktree with hand edits survives abort as an archive branch whose tree has the edits', async () => {
    const plan = `tasks:
  - id: a
    agent: shell
    files_write: [a.txt, notes.md]
    verification: [{ command: "true" }]
    run: |
      echo a > a.txt && git add -A && git commit -qm "a: first" && orch task progress committed
      sleep 600
`;
    world = await cliWorld({ 'tasks.yaml': plan, '.gitignore': '*.log\n' });
    repo = world.repo;
    const main = await repo.git('rev-parse', 'main');
    const started = await orch('run', '--detach', '--yes');
    expect(started.exitCode).toBe(0);
    const run = await currentRun(repo.root);
    let wt: string | undefined;
    for (let i = 0; i < 600 && !wt; i++) {
      const t = (await status()).tasks[0];
      if (t?.lastMessage === 'committed' && t.worktree) wt = t.worktree;
      else await sleep(200);
    }
    expect(wt).toBeDefined();
    // The user's hand edits: a changed tracked file, a new file, and an ignored build output.
    await writeFile(join(wt!, 'a.txt'), 'hand edit\n');
    await writeFile(join(wt!, 'notes.md'), 'my notes\n');
    await writeFile(join(wt!, 'build.log'), 'noise\n');
    const statusBefore = await repo.git('-C', wt!, 'status', '--porcelain');

    const abort = await orch('state', 'abort', '--yes');
    expect(abort.exitCode).toBe(0);
    const archive = `orch/${run}/archive/a-1`;
    expect(abort.stdout).toContain(`uncommitted changes in ${wt}: ${archive}`);
    expect(abort.stdout).toContain(`get it back: git switch -c a-rescue ${archive}`);
    expect(existsSync(wt!)).toBe(false);
    expect(await repo.git('show', `${archive}:a.txt`)).toBe('hand edit');
    expect(await repo.git('show', `${archive}:notes.md`)).toBe('my notes');
    expect(await repo.git('ls-tree', '--name-only', archive)).not.toContain('build.log');
    // On top of the worker's commit, which is kept with it.
    expect((await repo.git('log', '--format=%s', archive)).split('\n')[1]).toBe('a: first');
    expect(statusBefore).toContain('a.txt');
    expect(await repo.git('rev-parse', 'main')).toBe(main);
    expect((await status()).outcome).toBe('aborted');

    // Aborting again is refused: the run has ended.
    const again = await orch('state', 'abort', '--yes');
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('ERR_ORCH_RUN_FINISHED');
    expect(again.stderr).toContain('orch state clean');

    // clean: without --yes (no terminal) it asks for it; --dry-run lists and changes nothing.
    expect((await orch('state', 'clean')).stderr).toContain('ERR_ORCH_CONFIRM');
    const dry = await orch('state', 'clean', '--dry-run');
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain(`Would remove run ${run} (aborted):`);
    expect(dry.stdout).toContain(`branch ${archive}`);
    expect(dry.stdout).toContain('Dry run: nothing was changed.');
    expect(await repo.git('rev-parse', '--verify', archive)).not.toBe('');
    expect(existsSync(join(repo.root, '.orchestrator', 'runs', run))).toBe(true);

    const clean = await orch('state', 'clean', '--yes', '--json');
    expect(clean.exitCode).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({ dryRun: false, removed: [{ run, phase: 'aborted' }] });
    expect(await repo.git('branch', '--format=%(refname:short)')).toBe('main');
    expect(existsSync(join(repo.root, '.orchestrator', 'runs', run))).toBe(false);
    expect(await repo.git('rev-parse', 'main')).toBe(main);
    expect(await readFile(join(repo.root, '.gitignore'), 'utf8')).toBe('*.log\n');
  }, 180_000);
});

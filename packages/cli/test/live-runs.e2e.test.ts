import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentRun, isolatedTmux, runEvents, runOrch, tempRepo, type TempRepo } from '@orch/test-utils';

/** A plan of one task that holds until the gate file exists. */
function plan(id: string, gate: string): string {
  return `request: task ${id}
tasks:
  - id: ${id}
    agent: shell
    files_write: [${id}.txt]
    verification: [{ command: "test -s ${id}.txt" }]
    run: |
      while [ ! -f '${gate}' ]; do sleep 0.2; done
      echo ${id} > ${id}.txt && git add -A && git commit -qm ${id} && orch task done --summary "${id} written"
`;
}

async function until(what: string, probe: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('several live runs', () => {
  let repo: TempRepo;
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;
  let gateDir: string;

  beforeEach(async () => {
    repo = await tempRepo({ 'README.md': '# x\n' });
    // Inside .git: the workers' sandbox has a private /tmp but sees the repository (read-only).
    gateDir = join(repo.root, '.git', 'orch-test-gate');
    await mkdir(gateDir);
    const gate = join(gateDir, 'go');
    await writeFile(join(repo.root, 'one.yaml'), plan('a', gate));
    await writeFile(join(repo.root, 'two.yaml'), plan('b', gate));
    tmux = await isolatedTmux();
  });
  afterEach(async () => {
    await writeFile(join(gateDir, 'go'), '').catch(() => undefined);
    await tmux.cleanup();
    await repo.cleanup();
  });

  const orch = (args: string[]) => runOrch(args, { cwd: repo.root, env: tmux.env, timeoutMs: 150_000 });
  const startDetached = async (planFile: string, task: string, live?: string): Promise<string> => {
    const r = await orch(['run', planFile, '--detach', '--yes', '--no-promote']);
    expect(r.exitCode, r.stderr).toBe(0);
    // A run started beside a live one says so.
    if (live) expect(r.stderr).toContain(`Run ${live} is live too`);
    else expect(r.stderr).toBe('');
    const run = await currentRun(repo.root);
    await until(`task ${task} to start`, async () =>
      (await runEvents(repo.root, run)).some((e) => e.type === 'task.started' && e.task === task),
    );
    return run;
  };

  it('a second orch run names the live run and how to follow it; wait and dashboard say which run they follow', async () => {
    const first = await startDetached('one.yaml', 'a');

    // The same plan again: its task's worktree is held by the live run.
    const again = await orch(['run', 'one.yaml', '--no-tui', '--yes']);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('ERR_ORCH_RUN_LIVE');
    expect(again.stderr).toContain(`Run ${first} is live`);
    expect(again.stderr).toContain(`orch dashboard --run ${first}`);
    expect(again.stderr).not.toMatch(/abort|kept it for inspection/);
    expect(await currentRun(repo.root)).toBe(first);

    // Another plan may run beside it; then two runs are live.
    const second = await startDetached('two.yaml', 'b', first);
    const waited = await orch(['wait', '--timeout', '0']);
    expect(waited.exitCode).toBe(4);
    expect(waited.stderr).toContain(`orch wait follows run ${second} (the newest); also live: ${first}`);
    const frame = await orch(['dashboard', '--once']);
    expect(frame.exitCode).toBe(0);
    expect(frame.stderr).toContain(`orch dashboard follows run ${second}`);
    expect(frame.stderr).toContain(`orch dashboard --run ${first}`);
    const listed = (await orch(['state', 'list'])).stdout;
    expect(listed).toMatch(new RegExp(`${first}\\s+running\\s+live task a`));
    // Naming the run is enough: no remark.
    const named = await orch(['wait', '--run', first, '--timeout', '0']);
    expect(named.stderr).toBe('');

    await writeFile(join(gateDir, 'go'), '');
    for (const run of [first, second]) {
      const done = await orch(['wait', '--run', run, '--timeout', '120']);
      expect(done.exitCode, done.stdout).toBe(0);
    }
    // Both runs listed as finished, none live any more.
    const list = JSON.parse((await orch(['state', 'list', '--json'])).stdout) as {
      run: string;
      live: boolean;
    }[];
    expect(list.map((r) => [r.run, r.live]).sort()).toEqual([
      [first, false],
      [second, false],
    ]);
    expect(existsSync(join(repo.root, '.orchestrator', 'runs', second))).toBe(true);
  });
});

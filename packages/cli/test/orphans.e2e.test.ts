import { spawn } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentRun, isolatedTmux, runEvents, runOrch, tempRepo, type TempRepo } from '@orch/test-utils';

const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Field 22 of /proc/<pid>/stat, as orch records it (undefined off Linux). */
async function startTime(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

describe('no command orch started outlives its timeout', () => {
  let repo: TempRepo;
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;
  beforeEach(async () => {
    tmux = await isolatedTmux();
  });
  afterEach(async () => {
    await runOrch(['state', 'abort', '--yes'], { cwd: repo.root, env: tmux.env });
    await tmux.cleanup();
    await repo.cleanup();
  });

  it('a verification command ends at its timeout after the supervisor is SIGKILLed; resume stops a recorded leftover', async () => {
    const plan = `tasks:
  - id: a
    agent: shell
    files_write: [a.txt]
    verification: [{ command: "sleep 300", timeout: 3 }]
    run: echo a > a.txt && git add -A && git commit -qm a && orch task done --summary a
`;
    repo = await tempRepo({
      'tasks.yaml': plan,
      '.claude-agents.yaml': 'orchestration:\n  max_retries: 0\n',
    });
    expect((await runOrch(['run', '--detach', '--yes'], { cwd: repo.root, env: tmux.env })).exitCode).toBe(0);
    const run = await currentRun(repo.root);
    const records = join(repo.root, '.orchestrator', 'runs', run, 'commands');
    let pgid: number | undefined;
    for (let i = 0; i < 600 && pgid === undefined; i++) {
      const names = await readdir(records).catch(() => [] as string[]);
      if (names[0]) pgid = Number(names[0].replace(/\.json$/, ''));
      else await sleep(100);
    }
    expect(pgid).toBeGreaterThan(1);
    expect(groupAlive(pgid!)).toBe(true);
    const started = (await runEvents(repo.root)).find((e) => e.type === 'supervisor.started') as
      { pid: number } | undefined;
    process.kill(started!.pid, 'SIGKILL');

    // 3 s timeout, 1 s watchdog margin, 3 s grace: gone well within 20 s (a sleep 300 otherwise).
    for (let i = 0; i < 200 && groupAlive(pgid!); i++) await sleep(100);
    expect(groupAlive(pgid!)).toBe(false);

    // A leftover the watchdog did not get to (say, it was killed too): resume stops it first.
    const leftover = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    const ended = new Promise<NodeJS.Signals | null>((r) => leftover.once('exit', (_c, s) => r(s)));
    const st = await startTime(leftover.pid!);
    await writeFile(
      join(records, `${leftover.pid}.json`),
      JSON.stringify({
        pgid: leftover.pid,
        command: 'npm test',
        cwd: repo.root,
        startedAt: new Date().toISOString(),
        ...(st ? { startTime: st } : {}),
      }),
    );
    try {
      const dry = await runOrch(['state', 'resume', '--dry-run'], { cwd: repo.root, env: tmux.env });
      expect(dry.stdout).toContain(`stop the leftover command \`npm test\` (process group ${leftover.pid}`);
      expect(groupAlive(leftover.pid!)).toBe(true);
      const resumed = await runOrch(['state', 'resume', '--detach'], { cwd: repo.root, env: tmux.env });
      expect(resumed.exitCode).toBe(0);
      expect(await ended).toBe('SIGKILL');
      // The kill comes first, its journal line right after: wait (bounded) for the line.
      const repairsNow = async (): Promise<string[]> =>
        (
          (await runEvents(repo.root)).filter((e) => e.type === 'repair') as unknown as { what: string }[]
        ).map((r) => r.what);
      let repairs = await repairsNow();
      for (let i = 0; i < 100 && !repairs.some((w) => w.startsWith('stopped the leftover')); i++) {
        await sleep(100);
        repairs = await repairsNow();
      }
      expect(repairs).toContain(`stopped the leftover command \`npm test\` (process group ${leftover.pid})`);
    } finally {
      leftover.kill('SIGKILL');
    }
  }, 180_000);
});

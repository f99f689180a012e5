import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TmuxServer } from '@orch/tmux';
import {
  currentRun,
  isolatedTmux,
  landedTasks,
  orchBin,
  orchSessions,
  runEvents,
  runOrch,
  tempRepo,
  type TempRepo,
} from '@orch/test-utils';

/** Two tasks that hold until the test lets them go, so the terminal closes while they work. */
function plan(gate: string): string {
  const task = (id: string): string => `
  - id: ${id}
    agent: shell
    files_write: [${id}.txt]
    verification: [{ command: "test -s ${id}.txt" }]
    run: |
      orch task progress "waiting for the gate"
      while [ ! -f '${gate}' ]; do sleep 0.2; done
      echo ${id} > ${id}.txt && git add -A && git commit -qm ${id} && orch task done --summary "${id} written"`;
  return `request: two tasks that outlive their terminal\ntasks:${task('one')}${task('two')}\n`;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a foreground orch run whose terminal closes', () => {
  let repo: TempRepo;
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;
  let term: TmuxServer;
  let gateDir: string;

  beforeEach(async () => {
    repo = await tempRepo({ 'README.md': '# x\n' });
    // Inside .git: the workers' sandbox has a private /tmp but sees the repository (read-only).
    gateDir = join(repo.root, '.git', 'orch-test-gate');
    await mkdir(gateDir);
    // Left untracked, as `orch plan -o tasks.yaml` leaves it.
    await writeFile(join(repo.root, 'tasks.yaml'), plan(join(gateDir, 'go')));
    tmux = await isolatedTmux();
    // The user's terminal: a tmux server of the test's own, beside orch's.
    term = new TmuxServer({ socket: `orch-term-${randomBytes(4).toString('hex')}`, env: tmux.env });
  });
  afterEach(async () => {
    await term.killServer().catch(() => undefined);
    await tmux.cleanup();
    await repo.cleanup();
  });

  it('keeps the supervisor and the workers going; the run finishes and promotes', async () => {
    await term.newSession({
      name: 'user',
      cwd: repo.root,
      // A shell in the terminal, as a user has: it dies with the terminal and passes the hangup on.
      argv: ['sh', '-c', `'${process.execPath}' '${orchBin()}' run tasks.yaml --yes; echo finished`],
      env: { ...tmux.env, NO_COLOR: '1' },
      width: 160,
      height: 40,
    });
    // Both workers are at work in orch's tmux server, the dashboard on the user's terminal.
    const run = await until('the run to start', async () =>
      existsSync(join(repo.root, '.orchestrator', 'current')) ? currentRun(repo.root) : undefined,
    );
    await until('both workers', async () => {
      const started = (await runEvents(repo.root, run)).filter((e) => e.type === 'task.started');
      return started.length === 2 ? true : undefined;
    });
    const sessionsBefore = await orchSessions(repo.root, tmux.env);
    expect(sessionsBefore.length).toBeGreaterThanOrEqual(2);

    // The terminal closes: its tmux server goes away and the shell and orch get SIGHUP.
    await term.killServer();
    const log = join(repo.root, '.orchestrator', 'runs', run, 'supervisor.log');
    await until('the supervisor to note the hangup', async () =>
      existsSync(log) && /the terminal closed/.test(await readFile(log, 'utf8')) ? true : undefined,
    );
    // Nothing was stopped by it: orch's server and every worker session are still there.
    const sessionsAfter = await orchSessions(repo.root, tmux.env);
    for (const s of sessionsBefore) expect(sessionsAfter).toContain(s);
    expect((await runEvents(repo.root, run)).some((e) => e.type === 'task.cancelled')).toBe(false);

    // The workers finish their work; the supervisor merges, promotes and ends the run.
    await writeFile(join(gateDir, 'go'), '');
    const waited = await runOrch(['wait', '--run', run, '--timeout', '120'], {
      cwd: repo.root,
      env: tmux.env,
      timeoutMs: 150_000,
    });
    expect(waited.exitCode).toBe(0);
    expect((await landedTasks(repo.root, `orch/${run}/staging`)).sort()).toEqual(['one', 'two']);
    expect(await repo.git('rev-parse', 'main')).toBe(await repo.git('rev-parse', `orch/${run}/staging`));
    // The supervisor, orphaned by its terminal, ends by itself after the run.
    const pid = (await runEvents(repo.root, run)).find((e) => e.type === 'supervisor.started')?.pid as number;
    await until('the supervisor to exit', async () => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    });
    // The lines the closed terminal would have shown are in the run's log.
    expect(await readFile(log, 'utf8')).toMatch(/merged into staging/);
  });

  it('Ctrl-C first closes the dashboard and the run goes on; a second Ctrl-C stops it with exit code 4', async () => {
    await term.newSession({
      name: 'user',
      cwd: repo.root,
      argv: [process.execPath, orchBin(), 'run', 'tasks.yaml', '--yes'],
      env: { ...tmux.env, NO_COLOR: '1' },
      width: 160,
      height: 40,
    });
    const run = await until('the run to start', async () =>
      existsSync(join(repo.root, '.orchestrator', 'current')) ? currentRun(repo.root) : undefined,
    );
    await until('both workers', async () =>
      (await runEvents(repo.root, run)).filter((e) => e.type === 'task.started').length === 2
        ? true
        : undefined,
    );
    const ctrlC = () =>
      execa('tmux', ['-L', term.socket, 'send-keys', '-t', '=user:', 'C-c'], { env: tmux.env });
    await until('the dashboard on screen', async () =>
      /q quit/.test(await term.capture('user').catch(() => '')) ? true : undefined,
    );

    await ctrlC();
    await until('the dashboard to close', async () =>
      (await term.capture('user', { lines: 100 })).includes(
        'Dashboard closed; the run goes on (Ctrl-C stops it).',
      )
        ? true
        : undefined,
    );
    expect((await runEvents(repo.root, run)).some((e) => e.type === 'task.cancelled')).toBe(false);
    expect((await orchSessions(repo.root, tmux.env)).length).toBeGreaterThanOrEqual(2);
    expect((await term.paneState('user')).dead).toBe(false);

    await ctrlC();
    const pane = await until('orch run to stop', async () => {
      const p = await term.paneState('user');
      return p.dead ? p : undefined;
    });
    expect(pane.exitStatus).toBe(4);
    expect(await term.capture('user', { lines: 100 })).toContain(
      `Run ${run} stopped; continue it with: orch state resume --run ${run}`,
    );
  });
});

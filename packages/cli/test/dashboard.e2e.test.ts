import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { RunEventInput } from '@orch/core';
import { appendEvent, runPaths, setCurrentRun } from '@orch/store';
import { socketNameFor } from '@orch/tmux';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', 'dist', 'bin.js');
const RUN = '20250101-100000-abcd';

let repo: TempRepo;
let runDir: string;

function orch(args: string[]) {
  return execa('node', [BIN, ...args], {
    cwd: repo.root,
    reject: false,
    env: { NO_COLOR: '1', ORCH_RUN: '' },
  });
}

async function journal(events: RunEventInput[]): Promise<void> {
  for (const ev of events) await appendEvent(runDir, ev);
}

function logOf(task: string): string {
  return join(runDir, 'logs', `${task}.log`);
}

async function writeLog(task: string, lines: string[]): Promise<void> {
  await mkdir(dirname(logOf(task)), { recursive: true });
  await writeFile(logOf(task), `${lines.join('\n')}\n`);
}

const ts = (s: number): string => new Date(Date.parse('2025-01-01T10:00:00Z') + s * 1000).toISOString();

function baseEvents(): RunEventInput[] {
  return [
    {
      type: 'run.started',
      ts: ts(0),
      run: RUN,
      request: 'Add a login page',
      repoRoot: repo.root,
      planPath: 'tasks.yaml',
      base: 'main',
      baseCommit: 'a'.repeat(40),
      staging: `orch/${RUN}/staging`,
      stagingCommit: 'b'.repeat(40),
      envHash: 'e',
      maxWorkers: 2,
      detached: false,
      tasks: [
        { id: 'api', dependsOn: [], agent: 'claude', model: 'sonnet', description: 'the api' },
        { id: 'ui', dependsOn: [], agent: 'shell', description: 'the ui' },
        { id: 'docs', dependsOn: ['api'], agent: 'shell', description: 'docs' },
      ],
    },
    { type: 'run.phase', ts: ts(1), phase: 'running' },
    { type: 'task.ready', ts: ts(2), task: 'api' },
    { type: 'task.ready', ts: ts(2), task: 'ui' },
    {
      type: 'task.started',
      ts: ts(3),
      task: 'api',
      attempt: 1,
      session: 'orch-x__api',
      agent: 'claude',
      model: 'sonnet',
      promptPath: 'p.md',
      logPath: logOf('api'),
    },
    {
      type: 'task.started',
      ts: ts(3),
      task: 'ui',
      attempt: 1,
      session: 'orch-x__ui',
      agent: 'shell',
      promptPath: 'p.md',
      // outside the repository: never read
      logPath: '/etc/hostname',
    },
    {
      type: 'task.activity',
      ts: ts(20),
      task: 'api',
      usage: {
        inputTokens: 1000,
        outputTokens: 500,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        contextTokens: 45_200,
        contextWindow: 200_000,
        costUsd: 0.25,
      },
      activity: 'Editing src/api.ts',
    },
    {
      type: 'task.merged',
      ts: ts(40),
      task: 'ui',
      commit: 'c'.repeat(40),
      stagingBefore: 'b'.repeat(40),
      evidence: { source: 'merge', at: ts(40) },
    },
  ];
}

beforeEach(async () => {
  repo = await tempRepo();
  runDir = runPaths(repo.root, RUN).dir;
  await journal(baseEvents());
  await setCurrentRun(repo.root, RUN);
  await writeLog('api', ['api line 1', 'api line 2', 'api \u001b[31mline 3\u001b[0m']);
  await writeLog('ui', ['ui finished']);
});

afterEach(async () => {
  await repo.cleanup();
});

describe('orch dashboard (plain)', () => {
  it('--once prints one plain frame of the current run', async () => {
    const r = await orch(['dashboard', '--once']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.includes('\u001b')).toBe(false);
    expect(r.stdout).toContain(`orch run ${RUN}  base main  staging orch/${RUN}/staging @ cccccccccc`);
    expect(r.stdout).toContain('request Add a login page');
    expect(r.stdout).toMatch(
      /\n {2}api\s+▶ running\s+claude\/sonnet\s+45\.2k\/200k \(23%\)\s+\$0\.25\s+\S+ Editing src\/api\.ts\n/,
    );
    expect(r.stdout).toMatch(/\n {2}ui\s+✓ merged\s+shell\s+-\s+-\s+37s\n/);
    expect(r.stdout).toMatch(/\n {2}docs\s+· pending\s+shell\s+.*after api\n/);
    expect(r.stdout).toContain('▶ 1 running  · 1 pending  ✓ 1 merged');
  });

  it('prints the plain frame without --once when there is no terminal, and follows --run', async () => {
    const r = await orch(['dashboard', '--run', RUN]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('LAST MESSAGE');
  });

  it('--json prints the run state', async () => {
    const r = await orch(['dashboard', '--json']);
    expect(r.exitCode).toBe(0);
    const state = JSON.parse(r.stdout) as {
      run: string;
      order: string[];
      tasks: Record<string, { status: string }>;
    };
    expect(state.run).toBe(RUN);
    expect(state.order).toEqual(['api', 'ui', 'docs']);
    expect(state.tasks.ui?.status).toBe('merged');
  });

  it('fails with a stable code for an unknown run', async () => {
    const r = await orch(['dashboard', '--once', '--run', '20990101-000000-ffff']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('ERR_ORCH_RUN_NOT_FOUND');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('has help with an example', async () => {
    const r = await orch(['dashboard', '--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('$ orch dashboard');
    const w = await orch(['workers', '--help']);
    expect(w.stdout).toContain('$ orch workers');
  });
});

describe('orch workers (plain)', () => {
  it('--once shows each live worker log tail and collapses finished workers', async () => {
    const r = await orch(['workers', '--once']);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`orch workers run ${RUN}`);
    expect(lines[1]).toMatch(/^── api ▶ running \S+ ─+$/);
    expect(lines.slice(2, 5)).toEqual(['  api line 1', '  api line 2', '  api line 3']);
    expect(r.stdout).toMatch(/\nui\s+✓ merged\s+37s\n/);
    // docs waits for api to be merged, not for a worker slot.
    expect(r.stdout).toContain('1 task(s) waiting on dependencies');
    expect(r.stdout).not.toContain('waiting for a worker');
  });

  it("--once shows a worker's progress messages instead of orch's acknowledgements of them", async () => {
    await writeLog('api', [
      'step one',
      `recorded progress for task api (run ${RUN})`,
      `recorded progress for task api (run ${RUN})`,
    ]);
    await journal([
      { type: 'task.progress', task: 'api', message: 'tests written' },
      { type: 'task.progress', task: 'api', message: 'wrote src/api.ts' },
    ]);
    const r = await orch(['workers', '--once']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('  step one\n  › wrote src/api.ts\n');
    expect(r.stdout).not.toContain('recorded progress');
    const j = JSON.parse((await orch(['workers', '--json'])).stdout) as { live: { lines: string[] }[] };
    expect(j.live[0]?.lines).toEqual(['step one', '› wrote src/api.ts']);
  });

  it('--json lists the workers with their output, never reading logs outside the repository', async () => {
    await journal([
      {
        type: 'task.started',
        ts: ts(50),
        task: 'docs',
        attempt: 1,
        session: 'orch-x__docs',
        agent: 'shell',
        promptPath: 'p.md',
        logPath: '../../../../../../../../etc/hostname',
      },
    ]);
    const r = await orch(['workers', '--json']);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as {
      live: { task: string; lines: string[] }[];
      finished: { task: string }[];
    };
    expect(out.live.map((w) => w.task)).toEqual(['api', 'docs']);
    // Escape sequences from the worker are removed, as on screen.
    expect(out.live[0]?.lines).toEqual(['api line 1', 'api line 2', 'api line 3']);
    // docs has no log of its own in the run directory, and its journaled path points outside
    expect(out.live[1]?.lines).toEqual([]);
    expect(out.finished.map((w) => w.task)).toEqual(['ui']);
  });
});

describe('orch workers --panes tmux', () => {
  it("shows what the worker's pane on orch's own tmux socket shows, and the log once the session is gone", async () => {
    const tmux = (...args: string[]) =>
      execa('tmux', ['-L', socketNameFor(repo.root), '-f', '/dev/null', ...args], { reject: false });
    try {
      const r = await tmux(
        'new-session',
        '-d',
        '-s',
        'orch-x__api',
        '-x',
        '80',
        '-y',
        '20',
        'sh',
        '-c',
        'echo pane says hello; exec sleep 60',
      );
      expect(r.exitCode).toBe(0);
      let out = '';
      const end = Date.now() + 10_000;
      while (!out.includes('pane says hello') && Date.now() < end) {
        out = (await orch(['workers', '--once', '--panes', 'tmux'])).stdout;
      }
      expect(out).toMatch(/── api ▶ running \S+ ─+\n {2}pane says hello\n/);
      expect(out).not.toContain('api line 1');
      await tmux('kill-server');
      const after = await orch(['workers', '--once', '--panes', 'tmux']);
      expect(after.stdout).toContain('  api line 3');
    } finally {
      await tmux('kill-server');
    }
  });
});

describe('orch dashboard (live, in a private tmux server)', () => {
  const socket = `orch-dash-test-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]) =>
    execa('tmux', ['-L', socket, '-f', '/dev/null', ...args], { reject: false });
  const screen = async (): Promise<string> => (await tmux('capture-pane', '-p', '-t', 'dash')).stdout;
  const waitForScreen = async (test: (s: string) => boolean): Promise<string> => {
    const end = Date.now() + 15_000;
    for (;;) {
      const s = await screen();
      if (test(s)) return s;
      if (Date.now() > end) throw new Error(`screen never matched:\n${s}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  afterEach(async () => {
    await tmux('kill-server');
  });

  it('draws the table, follows new journal events, switches views and quits on q', async () => {
    const cmd = ['env', 'NO_COLOR=1', 'node', BIN, 'dashboard'];
    const r = await tmux('new-session', '-d', '-s', 'dash', '-x', '140', '-y', '40', '-c', repo.root, ...cmd);
    expect(r.exitCode).toBe(0);
    await tmux('set-option', '-t', 'dash', 'remain-on-exit', 'on');
    let s = await waitForScreen((x) => x.includes('LAST MESSAGE'));
    expect(s).toMatch(/› api\s+▶ running/);
    expect(s).toContain('↑/↓ select · enter details · w workers · q quit');

    await journal([
      { type: 'task.progress', task: 'api', message: 'all tests pass' },
      { type: 'task.verifying', task: 'api' },
    ]);
    s = await waitForScreen((x) => /api\s+◇ verifying.*all tests pass/.test(x));

    await tmux('send-keys', '-t', 'dash', 'Enter');
    s = await waitForScreen((x) => x.includes('api line 2'));
    expect(s).toContain('(no messages)');
    await tmux('send-keys', '-t', 'dash', 'Escape');
    await waitForScreen((x) => x.includes('LAST MESSAGE'));

    await tmux('send-keys', '-t', 'dash', 'w');
    s = await waitForScreen((x) => x.includes('orch workers run') && x.includes('api line 3'));
    expect(s).toMatch(/api\s+◇ verifying/);
    expect(s).toMatch(/✓ ui\s+merged\s+37s/);

    await tmux('send-keys', '-t', 'dash', 'q');
    const end = Date.now() + 10_000;
    let dead = '';
    while (Date.now() < end && !/^1 \S/.test(dead)) {
      // tmux 3.3 records a pane's exit status only when it next reaps a child; make it reap one.
      await tmux('run-shell', 'true');
      dead = (
        await tmux('display-message', '-p', '-t', 'dash', '#{pane_dead} #{pane_dead_status}')
      ).stdout.trim();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(dead, await screen()).toBe('1 0');
    // the alternate screen is left: the shell's screen comes back without the dashboard
    expect(await screen()).not.toContain('orch workers run');
  });
});

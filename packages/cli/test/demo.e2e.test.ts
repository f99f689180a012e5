import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, Plan, applyEvent, checkPlan, type RunEvent, type RunState } from '@orch/core';
import { isolatedTmux, orchBin, runOrch, tmuxFixture } from '@orch/test-utils';
import { BASE_FILES, SAMPLE_TASKS, samplePlan } from '../src/commands/demo/sample.js';
import { renderSummary, summarizeDemo } from '../src/commands/demo/summary.js';

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'orch-demo-test-'));
});
afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [p, c] of Object.entries(files)) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    await writeFile(join(root, p), c);
  }
}

describe('the sample project', () => {
  it('is a sound plan: 7 tasks in 3 waves that pass plan check without approval', async () => {
    const plan = Plan.parse(samplePlan());
    expect(plan.tasks).toHaveLength(7);
    const report = await checkPlan(plan, { repoRoot: scratch });
    expect(report.exitCode).toBe(ExitCode.Ok);
    const wave = new Map<string, number>();
    for (const t of plan.tasks)
      wave.set(t.id, Math.max(0, ...t.depends_on.map((d) => (wave.get(d) ?? 0) + 1)));
    expect(Math.max(...wave.values())).toBe(2);
    expect(plan.tasks.every((t) => t.agent === undefined && t.verification[0]?.type === 'test')).toBe(true);
    expect(plan.defaults.agent).toBe('shell');
  });

  it('has code and tests that pass with node --test once every task wrote its files', async () => {
    await writeFiles(scratch, BASE_FILES);
    for (const t of SAMPLE_TASKS) await writeFiles(scratch, t.files);
    const r = await execa(process.execPath, ['--test'], { cwd: scratch, reject: false });
    expect(r.stdout).toMatch(/# fail 0/);
    expect(r.stdout).toMatch(/# pass (1[0-9]|[2-9][0-9])/);
    expect(r.exitCode).toBe(0);
  });
});

describe('the demo summary', () => {
  it('names the rejected attempt with its verification report, and the merges in order', () => {
    const ts = '2026-01-01T00:00:00.000Z';
    const events: RunEvent[] = [
      {
        type: 'run.started',
        ts,
        run: 'r1',
        request: 'x',
        repoRoot: '/repo',
        planPath: 'tasks.yaml',
        base: 'main',
        baseCommit: 'a'.repeat(40),
        staging: 'orch/r1/staging',
        stagingCommit: 'a'.repeat(40),
        envHash: 'h',
        maxWorkers: 2,
        detached: false,
        noPromote: false,
        tasks: [
          { id: 'one', dependsOn: [], agent: 'shell', description: '' },
          { id: 'two', dependsOn: ['one'], agent: 'shell', description: '' },
        ],
      },
      {
        type: 'task.started',
        ts,
        task: 'one',
        attempt: 1,
        session: 's',
        agent: 'shell',
        promptPath: 'p',
        logPath: 'l',
      },
      {
        type: 'task.verified',
        ts,
        task: 'one',
        ok: false,
        categories: ['boundary_violation'],
        reportPath: '/v/one-1.json',
      },
      {
        type: 'task.failed',
        ts,
        task: 'one',
        category: 'boundary_violation',
        reason: 'outside',
        final: false,
        evidence: { source: 'verification', at: ts },
      },
      {
        type: 'task.started',
        ts,
        task: 'one',
        attempt: 2,
        session: 's',
        agent: 'shell',
        promptPath: 'p',
        logPath: 'l',
      },
      {
        type: 'task.merged',
        ts,
        task: 'one',
        commit: 'b'.repeat(40),
        stagingBefore: 'a'.repeat(40),
        evidence: { source: 'merge', at: ts },
      },
      {
        type: 'task.started',
        ts,
        task: 'two',
        attempt: 1,
        session: 's',
        agent: 'shell',
        promptPath: 'p',
        logPath: 'l',
      },
      {
        type: 'task.merged',
        ts,
        task: 'two',
        commit: 'c'.repeat(40),
        stagingBefore: 'b'.repeat(40),
        evidence: { source: 'merge', at: ts },
      },
      { type: 'run.finished', ts, outcome: 'succeeded' },
    ];
    let state: RunState | undefined;
    for (const e of events) state = applyEvent(state, e);
    const s = summarizeDemo(state as RunState, events, {
      dir: '/d',
      kept: true,
      seconds: 12.345,
      report: '/d/report.md',
    });
    expect(s).toMatchObject({ outcome: 'succeeded', tasks: 2, attempts: 3, seconds: 12.3 });
    expect(s.rejected).toEqual([
      {
        task: 'one',
        category: 'boundary_violation',
        reason: 'outside',
        retried: true,
        reportPath: '/v/one-1.json',
      },
    ]);
    expect(s.merged.map((m) => [m.task, m.attempts])).toEqual([
      ['one', 2],
      ['two', 1],
    ]);
    const text = renderSummary(s).join('\n');
    expect(text).toMatch(/one\s+bbbbbbbb\s+\(attempt 2\)/);
    expect(text).toContain('git -C /d log --oneline --graph');
    expect(renderSummary({ ...s, kept: false }).join('\n')).toContain('removed /d');
  });
});

describe('orch demo', () => {
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;
  beforeEach(async () => {
    tmux = await isolatedTmux();
  });
  afterEach(async () => {
    await tmux.cleanup();
  });

  it('refuses a folder that is not empty, touching nothing', async () => {
    await writeFile(join(scratch, 'mine.txt'), 'keep me\n');
    const r = await runOrch(['demo', scratch, '--no-tui'], { cwd: scratch, env: tmux.env });
    expect(r.exitCode).toBe(ExitCode.Usage);
    expect(r.stderr).toMatch(/ERR_ORCH_DEMO_DIR_NOT_EMPTY/);
    expect(await readdir(scratch)).toEqual(['mine.txt']);
  });

  it('stops before the run when tmux is missing, saying so, and leaves no temporary folder', async () => {
    const bin = join(scratch, 'bin');
    const temp = join(scratch, 'tmp');
    await mkdir(bin);
    await mkdir(temp);
    const gitPath = (await execa('sh', ['-c', 'command -v git'])).stdout.trim();
    await symlink(gitPath, join(bin, 'git'));
    const r = await runOrch(['demo', '--no-tui'], {
      cwd: scratch,
      env: { ...tmux.env, PATH: bin, TMPDIR: temp },
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/tmux/);
    expect(await readdir(temp)).toEqual([]);
  });

  it('runs the sample plan end to end: the boundary gate rejects toc once, every task merges, main is promoted', async () => {
    const dir = join(scratch, 'textkit');
    const r = await runOrch(['demo', dir, '--no-tui'], { cwd: scratch, env: tmux.env, timeoutMs: 170_000 });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/toc rejected \(boundary_violation\)/);
    expect(r.stdout).toMatch(/outside its files: README\.md/);
    expect(r.stdout).toMatch(/Demo run \S+ succeeded/);
    expect(r.stdout).toMatch(/7 tasks, 8 attempts/);
    expect(r.stdout).toContain(`git -C ${dir} log --oneline --graph`);

    const git = async (...args: string[]): Promise<string> => (await execa('git', args, { cwd: dir })).stdout;
    const run = (await readFile(join(dir, '.orchestrator', 'current'), 'utf8')).trim();
    const events = (await readFile(join(dir, '.orchestrator', 'runs', run, 'events.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent);
    // Every task merged exactly once; toc only on its second attempt, after a boundary rejection.
    const merged = events.filter((e) => e.type === 'task.merged').map((e) => e.task);
    expect([...merged].sort()).toEqual(SAMPLE_TASKS.map((t) => t.id).sort());
    const failed = events.filter((e) => e.type === 'task.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ task: 'toc', category: 'boundary_violation', final: false });
    const tocStarts = events.filter((e) => e.type === 'task.started' && e.task === 'toc');
    expect(tocStarts.map((e) => (e.type === 'task.started' ? e.attempt : 0))).toEqual([1, 2]);
    expect(merged.indexOf('toc')).toBeGreaterThan(merged.indexOf('slug'));
    expect(merged.indexOf('cli')).toBeGreaterThan(Math.max(merged.indexOf('toc'), merged.indexOf('summary')));
    expect(events.some((e) => e.type === 'integration.finished' && e.ok)).toBe(true);

    // main was promoted to staging, holds every module, and not the rejected README edit.
    expect(await git('rev-parse', 'main')).toBe(await git('rev-parse', `orch/${run}/staging`));
    const tree = (await git('ls-tree', '-r', '--name-only', 'main')).split('\n');
    for (const t of SAMPLE_TASKS) for (const f of Object.keys(t.files)) expect(tree).toContain(f);
    expect(await git('show', 'main:README.md')).toBe(BASE_FILES['README.md']!.trimEnd());
    expect(await git('status', '--porcelain')).toBe('');
    const worktrees = (await git('worktree', 'list', '--porcelain'))
      .split('\n')
      .filter((l) => l.startsWith('worktree '));
    expect(worktrees).toHaveLength(1);
    // The result works: the project's own tests pass in the user's checkout.
    const tests = await execa(process.execPath, ['--test'], { cwd: dir, reject: false });
    expect(tests.exitCode).toBe(0);
    // The report the summary points to exists, and the plan is on main.
    expect(existsSync(join(dir, '.orchestrator', 'runs', run, 'reports', 'report.md'))).toBe(true);
    expect(parse(await git('show', 'main:tasks.yaml'))).toMatchObject({ defaults: { agent: 'shell' } });
  }, 180_000);

  it('shows the live dashboard on a terminal, closes it at the end, and removes its temporary folder', async () => {
    const fixture = await tmuxFixture({ env: tmux.env });
    const temp = join(scratch, 'tmp');
    await mkdir(temp);
    try {
      await fixture.server.newSession({
        name: 'demo',
        cwd: scratch,
        argv: [process.execPath, orchBin(), 'demo'],
        env: { TMPDIR: temp, NO_COLOR: '1' },
        width: 150,
        height: 60,
      });
      const end = await fixture.server.waitForExit('demo', { timeoutMs: 170_000 });
      const screen = await fixture.server.capture('demo', { lines: 60 });
      expect(end.timedOut).toBe(false);
      expect(end.exitStatus).toBe(0);
      // The dashboard's final frame stays on screen after the alternate screen is gone.
      expect(screen).toMatch(/toc\s+✓ merged #2/);
      expect(screen).toMatch(/✓ 7 merged/);
      expect(screen).toMatch(/Demo run \S+ succeeded/);
      expect(screen).toMatch(/removed \S*orch-demo-/);
      expect(await readdir(temp)).toEqual([]);
    } finally {
      await fixture.cleanup();
    }
  }, 180_000);
});

/** The demo's sample project and its summary (the demo's runs: demo.e2e.test.ts, demo-dashboard.e2e.test.ts). */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, Plan, applyEvent, checkPlan, type RunEvent, type RunState } from '@orch/core';
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

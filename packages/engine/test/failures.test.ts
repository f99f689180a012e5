/** The texts a rejected attempt, the escalation report and `orch state status` show (pure). */
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Plan } from '@orch/core';
import {
  commandDetail,
  renderIntegrationFailure,
  renderVerificationFailure,
  restoreInstructions,
  verificationDetail,
} from '../src/supervisor/failures.js';
import { buildWorkerPrompt } from '../src/worker/prompt.js';

const BASE = 'a'.repeat(40);

const report = {
  summary: 'failed: boundary_violation (outside files_write: README.md), test_failed (npm test: exit 1)',
  baseCommit: BASE,
  boundaries: {
    ok: false,
    changed: ['src/a.ts', 'README.md', "it's -odd.txt"],
    unauthorized: [
      { path: 'README.md', rule: 'not in files_write or files_append' },
      { path: "it's -odd.txt", rule: 'not in files_write or files_append' },
    ],
    forbidden: [],
    symlinks: [],
  },
  commands: [
    {
      command: 'npm test',
      type: 'test' as const,
      source: 'task' as const,
      required: true,
      ok: false,
      exitCode: 1,
      timedOut: false,
      durationMs: 5,
      zeroTests: false,
      logPath: '/l/1-test.log',
      tail: Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n'),
    },
  ],
};

describe('failure texts', () => {
  it('lists exactly the out-of-bounds paths and a restore command that undoes them with a fix-up commit', () => {
    const text = renderVerificationFailure(report);
    expect(text).toContain(
      "Paths changed outside your files_write:\n- README.md (not in files_write or files_append)\n- it's -odd.txt",
    );
    expect(text).not.toMatch(/^- src\/a\.ts/m);
    expect(text).toContain(
      `git restore --source=${BASE} --staged --worktree -- README.md 'it'\\''s -odd.txt'`,
    );
    expect(text).toMatch(/fix-up commit on top of your work is enough/);
    expect(text).toContain('Command failed: npm test\n```\nline 1');
  });

  it('gives a restore command that really puts added and changed files back in a fix-up commit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orch-restore-'));
    try {
      const git = (...a: string[]) => execa('git', a, { cwd: dir });
      await git('init', '-q');
      await writeFile(join(dir, 'README.md'), 'base\n');
      await git('add', '.');
      await git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'base');
      const base = (await git('rev-parse', 'HEAD')).stdout;
      await writeFile(join(dir, 'README.md'), 'changed\n');
      await writeFile(join(dir, "it's -odd.txt"), 'added\n');
      await git('add', '.');
      await git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'stray');
      const cmd = /```\n(git restore[^\n]+)\n/.exec(
        restoreInstructions(base, ['README.md', "it's -odd.txt"]),
      )![1]!;
      await execa('sh', ['-c', cmd], { cwd: dir });
      await git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'fix-up');
      expect((await git('diff', '--name-only', base, 'HEAD')).stdout).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the one-screen detail to the paths and the end of each failing output', () => {
    expect(verificationDetail(report).split('\n')).toEqual([
      'outside files_write: README.md',
      "outside files_write: it's -odd.txt",
      '$ npm test',
      ...Array.from({ length: 6 }, (_, i) => `line ${i + 15}`),
    ]);
    expect(commandDetail('make check', 'a\nb\n')).toBe('$ make check\na\nb');
  });

  it('tells an integration retry the command, its output, the merges since its base and the state of its worktree', () => {
    const text = renderIntegrationFailure({
      command: 'npm test',
      output: 'TypeError: x is not a function\n',
      logPath: '/l/check.log',
      mergedSince: ['api', 'db'],
      sync: { ok: false, conflicts: ['src/x.ts'] },
    });
    expect(text).toContain('```\n$ npm test\nTypeError: x is not a function\n```');
    expect(text).toContain('Merged into staging since your base: api, db.');
    expect(text).toContain('with conflicts in: src/x.ts');
  });
});

describe('worker prompt', () => {
  const plan = Plan.parse({
    tasks: [{ id: 'a', files_write: ['a.txt'], verification: [{ command: 'true' }] }],
  });
  const input = {
    run: 'r1',
    task: plan.tasks[0]!,
    plan,
    attempt: 2,
    contracts: [],
    context: '',
    messages: [],
  };

  it('says on a retry that earlier commits are kept and fix-up commits are fine', () => {
    const text = buildWorkerPrompt({
      ...input,
      retry: { category: 'boundary_violation', reason: 'x', report: 'y' },
    });
    expect(text).toMatch(/Your earlier commits are still in this worktree/);
    expect(text).toMatch(/fix-up commits on top are fine/);
  });

  it('replaces the commit-and-report rules with the agent’s own when it cannot run git or orch', () => {
    const text = buildWorkerPrompt({ ...input, agentNote: 'do not commit; orch commits for you' });
    expect(text).toContain('- do not commit; orch commits for you');
    expect(text).not.toContain('git add -A && git commit');
    expect(text).not.toContain('orch task done');
    expect(buildWorkerPrompt(input)).toContain('orch task done --summary');
  });
});

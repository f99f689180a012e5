import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Config,
  Plan,
  VerificationReport,
  envHashFromFiles,
  type ConfigInput,
  type PlanInput,
} from '@orch/core';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { verifyTask } from '../src/verify/index.js';

const repos: TempRepo[] = [];
afterEach(async () => {
  for (const r of repos.splice(0)) await r.cleanup();
});

interface Fixture {
  repo: TempRepo;
  worktree: string;
  base: string;
  /** Writes a file inside the task's worktree. */
  write: (path: string, content: string) => Promise<void>;
  /** git in the task's worktree. */
  wt: (...args: string[]) => Promise<string>;
  commit: (message: string) => Promise<string>;
  verify: (opts?: {
    plan?: PlanInput;
    task?: string;
    config?: ConfigInput;
    depsApproved?: boolean;
    runEnvHash?: string;
  }) => Promise<VerificationReport>;
}

/** A repository with a linked worktree for task `a` (branch orch/test/a) created from `main`. */
async function fixture(files: Record<string, string>, planInput: PlanInput): Promise<Fixture> {
  const repo = await tempRepo(files);
  repos.push(repo);
  const base = await repo.git('rev-parse', 'HEAD');
  const worktree = join(repo.root, '.worktrees', 'a');
  await repo.write('.git/info/exclude', '.worktrees/\n');
  await repo.git('worktree', 'add', '-q', '-b', 'orch/test/a', worktree, base);
  const wt = async (...args: string[]): Promise<string> => {
    const { execa } = await import('execa');
    return (await execa('git', args, { cwd: worktree })).stdout;
  };
  const write = (path: string, content: string): Promise<void> =>
    repo.write(join('.worktrees', 'a', path), content);
  const commit = async (message: string): Promise<string> => {
    await wt('add', '-A');
    await wt('commit', '-q', '-m', message);
    return wt('rev-parse', 'HEAD');
  };
  let attempt = 0;
  const verify: Fixture['verify'] = async (opts = {}) => {
    attempt += 1;
    const plan = Plan.parse(opts.plan ?? planInput);
    const task = plan.tasks.find((t) => t.id === (opts.task ?? 'a'));
    if (!task) throw new Error('no task');
    return verifyTask({
      repoRoot: repo.root,
      worktree,
      task,
      plan,
      config: Config.parse(opts.config ?? {}),
      baseCommit: base,
      runEnvHash: opts.runEnvHash ?? (await envHashFromFiles(repo.root, [])).hash,
      depsApproved: opts.depsApproved ?? false,
      reportDir: join(repo.root, '.orchestrator', 'runs', 'r1', 'verify', `${task.id}-${attempt}`),
      attempt,
    });
  };
  return { repo, worktree, base, write, wt, commit, verify };
}

const simplePlan = (a: Partial<PlanInput['tasks'][number]>): PlanInput => ({
  tasks: [{ id: 'a', files_write: ['src/a.ts'], ...a }],
});

describe('verifyTask: boundaries', () => {
  it('catches an unauthorized file changed in an earlier commit, not only the last one', async () => {
    const f = await fixture({ 'README.md': '# x\n' }, simplePlan({}));
    await f.write('src/a.ts', 'export const a = 1;\n');
    await f.write('other.ts', 'export const other = 1;\n');
    await f.commit('first');
    await f.write('src/a.ts', 'export const a = 2;\n');
    await f.commit('second');
    const r = await f.verify();
    expect(r.ok).toBe(false);
    expect(r.categories).toEqual(['boundary_violation']);
    expect(r.boundaries.unauthorized).toEqual([
      { path: 'other.ts', rule: 'not in files_write or files_append' },
    ]);
    expect(r.boundaries.changed).toEqual(['other.ts', 'src/a.ts']);
    expect(r.committedLeftovers).toBeNull();
  });

  it('catches a file added in one commit and deleted in a later one', async () => {
    const f = await fixture({ 'README.md': '# x\n' }, simplePlan({}));
    await f.write('secret.txt', 'x\n');
    await f.commit('add');
    await f.wt('rm', '-q', 'secret.txt');
    await f.commit('remove');
    const r = await f.verify();
    expect(r.boundaries.unauthorized.map((v) => v.path)).toEqual(['secret.txt']);
  });

  it('commits the leftovers the task may write, refuses a stray file outside files_write and names it', async () => {
    const f = await fixture({ 'README.md': '# x\n', 'src/a.ts': 'export const a = 0;\n' }, simplePlan({}));
    await f.write('src/a.ts', 'export const a = 1;\n'); // uncommitted, allowed
    await f.write('notes/stray.md', 'oops\n'); // untracked, not allowed (another worker may have put it here)
    const r = await f.verify();
    expect(r.ok).toBe(false);
    expect(r.committedLeftovers).toMatch(/^[0-9a-f]{40}$/);
    expect(r.headCommit).toBe(r.committedLeftovers);
    expect(await f.wt('log', '-1', '--format=%s')).toMatch(
      /^orch: commit changes left uncommitted by task a/,
    );
    // The stray file is not in the commit orch made: it stays untracked, and the report names it.
    expect(await f.wt('show', '--name-only', '--format=', 'HEAD')).toBe('src/a.ts');
    expect(await f.wt('status', '--porcelain')).toBe('?? notes/');
    expect(r.categories).toContain('boundary_violation');
    expect(r.boundaries.changed).toEqual(['notes/stray.md', 'src/a.ts']);
    expect(r.boundaries.unauthorized).toEqual([
      {
        path: 'notes/stray.md',
        rule: 'not in files_write or files_append (left uncommitted; orch did not commit it)',
      },
    ]);
  });

  it('catches both sides of a rename that crosses the boundary', async () => {
    const files = {
      'README.md': '# x\n',
      'src/a.ts': 'export const a = 1;\n'.repeat(20),
      'docs/x.md': 'doc\n'.repeat(20),
    };
    const f = await fixture(files, simplePlan({ files_write: ['src/**'] }));
    await mkdir(join(f.worktree, 'lib'));
    await f.wt('mv', 'src/a.ts', 'lib/a.ts'); // out of bounds: the new name
    await f.commit('move out');
    let r = await f.verify();
    expect(r.boundaries.unauthorized.map((v) => v.path)).toEqual(['lib/a.ts']);

    await f.wt('mv', 'docs/x.md', 'src/x.md'); // into bounds: the old name is someone else's
    await f.commit('move in');
    r = await f.verify();
    expect(r.boundaries.unauthorized.map((v) => v.path)).toEqual(['docs/x.md', 'lib/a.ts']);
    expect(r.boundaries.changed).toContain('src/a.ts');
    expect(r.boundaries.changed).toContain('src/x.md');
  });

  it('fails forbidden paths even when files_write lists them, naming the rule', async () => {
    const f = await fixture(
      { 'README.md': '# x\n' },
      simplePlan({ files_write: ['dist/**', '.env.local', 'web/**', 'src/a.ts'] }),
    );
    await f.write('dist/out.js', 'x\n');
    await f.write('.env.local', 'TOKEN=1\n');
    await f.write('web/vendor.min.js', 'x\n');
    await f.write('src/a.ts', 'ok\n');
    await f.commit('build');
    const r = await f.verify();
    expect(r.categories).toEqual(['boundary_violation']);
    expect(r.boundaries.unauthorized).toEqual([]);
    expect(r.boundaries.forbidden).toEqual([
      { path: '.env.local', rule: '.env*' },
      { path: 'dist/out.js', rule: 'dist/' },
      { path: 'web/vendor.min.js', rule: '*.min.js' },
    ]);
  });

  it('honours config: forbidden_patterns replaces the defaults, extra_forbidden_patterns adds', async () => {
    const f = await fixture({ 'README.md': '# x\n' }, simplePlan({ files_write: ['**'] }));
    await f.write('dist/out.js', 'x\n');
    await f.write('gen/api.generated.ts', 'x\n');
    await f.commit('gen');
    const r = await f.verify({
      config: {
        verification: { forbidden_patterns: ['.git/'], extra_forbidden_patterns: ['*.generated.*'] },
      },
    });
    expect(r.boundaries.forbidden).toEqual([{ path: 'gen/api.generated.ts', rule: '*.generated.*' }]);
  });

  it('allows what globs in files_write and files_append cover', async () => {
    const f = await fixture(
      { 'README.md': '# x\n', 'CHANGELOG.md': '# changes\n' },
      simplePlan({ files_write: ['src/**/*.ts', 'test/'], files_append: ['CHANGELOG.md'] }),
    );
    await f.write('src/deep/er/b.ts', 'x\n');
    await f.write('src/c.ts', 'x\n');
    await f.write('test/any/thing.txt', 'x\n');
    await f.write('CHANGELOG.md', '# changes\n- a\n');
    await f.commit('work');
    const r = await f.verify();
    expect(r.ok).toBe(true);
    expect(r.categories).toEqual([]);
    expect(r.boundaries.changed).toHaveLength(4);
    expect(r.summary).toMatch(/^passed/);
  });
});

describe('verifyTask: commands', () => {
  it('runs every command even after a required one failed, keeping full logs and tails', async () => {
    const f = await fixture(
      { 'README.md': '# x\n' },
      simplePlan({
        verification: [
          { command: 'echo first-out; echo first-err >&2; exit 3', type: 'check' },
          { command: 'for i in $(seq 1 100); do echo line-$i; done', type: 'lint' },
          { command: 'exit 1', type: 'check', required: false },
        ],
      }),
    );
    const r = await f.verify();
    expect(r.commands.map((c) => [c.ok, c.exitCode, c.required])).toEqual([
      [false, 3, true],
      [true, 0, true],
      [false, 1, false],
    ]);
    expect(r.categories).toEqual(['test_failed']);
    expect(r.summary).toContain('exit 3');
    expect(r.commands[0]?.tail).toContain('first-out');
    expect(r.commands[0]?.tail).toContain('first-err');
    const second = r.commands[1]!;
    expect(second.tail.split('\n')).toHaveLength(40);
    expect(second.tail.split('\n')[0]).toBe('line-61');
    const log = await readFile(second.logPath, 'utf8');
    expect(log).toContain('line-1\n');
    expect(log).toContain('line-100\n');
  });

  it('does not fail the task for an optional failing command', async () => {
    const f = await fixture(
      { 'README.md': '# x\n' },
      simplePlan({ verification: [{ command: 'true' }, { command: 'false', required: false }] }),
    );
    const r = await f.verify();
    expect(r.ok).toBe(true);
    expect(r.commands[1]?.ok).toBe(false);
  });

  it('kills the whole process group on timeout and reports `timeout`', async () => {
    const f = await fixture({ 'README.md': '# x\n' }, simplePlan({}));
    const pidFile = join(f.repo.root, 'bg.pid');
    const r = await f.verify({
      plan: simplePlan({
        verification: [
          { command: `sleep 300 & echo $! > '${pidFile}'; wait`, type: 'test', timeout: 1 },
          { command: 'echo after' },
        ],
      }),
    });
    const c = r.commands[0]!;
    expect(c.timedOut).toBe(true);
    expect(c.ok).toBe(false);
    expect(c.exitCode).toBeNull();
    expect(c.tail).toContain('timed out');
    expect(r.categories).toEqual(['timeout']);
    expect(r.commands[1]?.ok).toBe(true);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(await gone(pid)).toBe(true);
  });

  it('fails a test command that ran zero tests', async () => {
    const f = await fixture({ 'README.md': '# x\n' }, simplePlan({}));
    const r = await f.verify({
      plan: simplePlan({
        verification: [
          { command: 'node --test --test-reporter=tap', type: 'test' },
          { command: 'node --test --test-reporter=tap', type: 'check' }, // not a test command: exit code only
        ],
      }),
    });
    expect(r.commands[0]).toMatchObject({ exitCode: 0, zeroTests: true, ok: false });
    expect(r.commands[1]).toMatchObject({ exitCode: 0, zeroTests: false, ok: true });
    expect(r.categories).toEqual(['test_failed']);
    expect(r.summary).toContain('ran zero tests');
  });

  it('passes a test command that ran tests', async () => {
    const f = await fixture(
      { 'README.md': '# x\n', 'test/one.test.mjs': "import t from 'node:test';\nt('one', () => {});\n" },
      simplePlan({ verification: [{ command: 'node --test --test-reporter=tap test/', type: 'test' }] }),
    );
    const r = await f.verify();
    expect(r.commands[0]).toMatchObject({ exitCode: 0, zeroTests: false, ok: true });
  });

  it('expands {modified_files} and {modified_tests} into one literal argument per file', async () => {
    const f = await fixture(
      { 'README.md': '# x\n', 'src/gone.ts': 'x\n', 'test/auth.test.ts': 'old\n' },
      simplePlan({
        files_write: ['src/**', 'test/**'],
        verification: [
          { command: `printf '<%s>\\n' {modified_files}` },
          { command: `printf '[%s]\\n' {modified_tests}` },
        ],
      }),
    );
    await f.write('src/my file $HOME `id`.ts', 'x\n');
    await f.write("src/it's.ts", 'x\n');
    await f.write('src/auth.ts', 'x\n');
    await f.wt('rm', '-q', 'src/gone.ts');
    await f.commit('work');
    const r = await f.verify();
    expect(r.ok).toBe(true);
    // Deleted files are not passed to commands; every name is exactly one word, unexpanded.
    expect(r.commands[0]?.tail.split('\n')).toEqual([
      '<src/auth.ts>',
      "<src/it's.ts>",
      '<src/my file $HOME `id`.ts>',
    ]);
    expect(r.commands[1]?.tail.split('\n')).toEqual(['[test/auth.test.ts]']);
    expect(r.commands[0]?.command).toBe(`printf '<%s>\\n' {modified_files}`);
  });
});

describe('verifyTask: contracts and environment', () => {
  const contractPlan = (changer: string): PlanInput => ({
    tasks: [
      { id: 'a', files_write: changer === 'a' ? ['src/**', 'contracts/auth.md'] : ['src/**'] },
      { id: 'owner', files_write: ['contracts/auth.md'] },
    ],
    contracts: [{ name: 'Auth', version: '1.0', file_path: 'contracts/auth.md' }],
  });
  const v1 = '# Auth\nVersion: 1.0\n';

  it('reports contract_mismatch when a task that does not own a contract changes it', async () => {
    const f = await fixture({ 'README.md': '# x\n', 'contracts/auth.md': v1 }, contractPlan('b'));
    await f.write('contracts/auth.md', `${v1}extra\n`);
    await f.commit('touch contract');
    const r = await f.verify();
    expect(r.categories).toEqual(['boundary_violation', 'contract_mismatch']);
    expect(r.contracts.problems).toEqual([
      'contracts/auth.md (contract Auth) was changed, but it is owned by owner',
    ]);
  });

  it('checks the Version header of a contract the task uses or owns against the plan', async () => {
    const f = await fixture({ 'README.md': '# x\n', 'contracts/auth.md': v1 }, contractPlan('b'));
    const uses: PlanInput = contractPlan('b');
    uses.tasks[0]!.contracts_used = ['Auth'];
    expect((await f.verify({ plan: uses })).ok).toBe(true);

    const stale: PlanInput = {
      ...uses,
      contracts: [{ name: 'Auth', version: '2.0', file_path: 'contracts/auth.md' }],
    };
    const r = await f.verify({ plan: stale });
    expect(r.categories).toEqual(['contract_mismatch']);
    expect(r.contracts.problems).toEqual([
      'contracts/auth.md (contract Auth) is version 1.0; the plan says 2.0',
    ]);
  });

  it('lets the owner change its contract when the version matches the plan', async () => {
    const f = await fixture({ 'README.md': '# x\n', 'contracts/auth.md': v1 }, contractPlan('a'));
    await f.write('contracts/auth.md', `${v1}more\n`);
    await f.commit('contract');
    expect((await f.verify()).ok).toBe(true);
  });

  it('runs config.verification.typecheck_command as the contract type check', async () => {
    const f = await fixture({ 'README.md': '# x\n' }, simplePlan({}));
    const r = await f.verify({ config: { verification: { typecheck_command: 'echo type error; exit 2' } } });
    expect(r.commands).toHaveLength(1);
    expect(r.commands[0]).toMatchObject({ source: 'contracts', type: 'typecheck', ok: false, exitCode: 2 });
    expect(r.categories).toEqual(['contract_mismatch']);
    expect(r.contracts.problems[0]).toMatch(/^type check `echo type error; exit 2` exited with 2/);
  });

  it('reports env_changed (and a forbidden lockfile) when a lockfile changed, unless deps were approved', async () => {
    const f = await fixture(
      { 'README.md': '# x\n', 'package-lock.json': '{"v":1}\n' },
      simplePlan({ files_write: ['src/**', 'package-lock.json'] }),
    );
    const { hash: runEnvHash } = await envHashFromFiles(f.repo.root, ['package-lock.json']);
    expect((await f.verify({ runEnvHash })).ok).toBe(true);

    await f.write('package-lock.json', '{"v":2}\n');
    await f.commit('bump');
    const r = await f.verify({ runEnvHash });
    expect(r.categories).toEqual(['boundary_violation', 'env_changed']);
    expect(r.environment).toMatchObject({ ok: false, expected: runEnvHash });
    expect(r.environment.actual).not.toBe(runEnvHash);
    expect(r.boundaries.forbidden).toEqual([
      { path: 'package-lock.json', rule: 'lockfile (no approved dependency request)' },
    ]);

    const approved = await f.verify({ runEnvHash, depsApproved: true });
    expect(approved.ok).toBe(true);
    expect(approved.environment.ok).toBe(true);
  });

  it('writes the report as JSON next to the logs', async () => {
    const f = await fixture({ 'README.md': '# x\n' }, simplePlan({ verification: [{ command: 'echo hi' }] }));
    const r = await f.verify();
    const dir = join(f.repo.root, '.orchestrator', 'runs', 'r1', 'verify', 'a-1');
    const saved = VerificationReport.parse(JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')));
    expect(r.commands[0]!.logPath).toBe(join(dir, '1-check.log'));
    expect(saved).toEqual(r);
    expect(existsSync(r.commands[0]!.logPath)).toBe(true);
  });
});

/** Whether a process is gone (or a zombie waiting for its reaper); polls briefly. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (stat === '' || / Z /.test(stat)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

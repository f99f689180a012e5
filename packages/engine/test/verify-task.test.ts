import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
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
import type { VerifyTaskInput } from '../src/verify/verify-task.js';

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
    extra?: Partial<VerifyTaskInput>;
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
  const wt = (...args: string[]): Promise<string> => repo.git('-C', worktree, ...args);
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
      ...opts.extra,
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

  it('squash (default): a later commit that undoes an out-of-bounds edit fixes the task', async () => {
    const f = await fixture({ 'README.md': '# x\n' }, simplePlan({}));
    await f.write('src/a.ts', 'export const a = 1;\n');
    await f.write('secret.txt', 'x\n');
    await f.write('README.md', 'edited\n');
    await f.commit('add');
    let r = await f.verify();
    expect(r.boundaries.unauthorized.map((v) => v.path)).toEqual(['README.md', 'secret.txt']);
    await f.wt('rm', '-q', 'secret.txt');
    await f.wt('checkout', f.base, '--', 'README.md');
    await f.commit('undo');
    r = await f.verify();
    expect(r.ok).toBe(true);
    expect(r.boundaries.changed).toEqual(['src/a.ts']);
  });

  it('merge strategy: catches a file added in one commit and deleted in a later one', async () => {
    const f = await fixture({ 'README.md': '# x\n' }, simplePlan({}));
    await f.write('secret.txt', 'x\n');
    await f.commit('add');
    await f.wt('rm', '-q', 'secret.txt');
    await f.commit('remove');
    const r = await f.verify({ config: { merge: { strategy: 'merge' } } });
    expect(r.boundaries.unauthorized.map((v) => v.path)).toEqual(['secret.txt']);
  });

  it('merge strategy: catches a .env that one merge commit adds and a later merge removes', async () => {
    const f = await fixture({ 'README.md': '# x\n' }, simplePlan({}));
    for (const [side, add] of [
      ['one', true],
      ['two', false],
    ] as const) {
      await f.wt('checkout', '-q', '-b', side);
      await f.write(`src/a.ts`, `export const a = '${side}';\n`);
      await f.commit(side);
      await f.wt('checkout', '-q', 'orch/test/a');
      await f.wt('merge', '-q', '--no-commit', '--no-ff', side);
      if (add) await f.write('.env', 'SECRET=1\n');
      else await f.wt('rm', '-q', '.env');
      await f.commit(`merge ${side}`);
    }
    const r = await f.verify({ config: { merge: { strategy: 'merge' } } });
    expect(r.ok).toBe(false);
    expect(r.boundaries.forbidden.map((v) => v.path)).toContain('.env');
    // Squashed, nothing of it would land: the net diff has no .env.
    expect((await f.verify()).ok).toBe(true);
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

describe('verifyTask: symlinks', () => {
  const linkPlan = simplePlan({
    files_write: ['src/**'],
    verification: [{ command: "printf '[%s]' {modified_files}" }],
  });
  const allow = { verification: { allow_symlinks: true } };

  it('refuses every symlink in the diff by default, naming it and its target', async () => {
    const f = await fixture({ 'README.md': '# x\n' }, linkPlan);
    await mkdir(join(f.worktree, 'src'), { recursive: true });
    await symlink('/etc/passwd', join(f.worktree, 'src', 'passwd'));
    await symlink(join(homedir(), '.ssh'), join(f.worktree, 'src', 'ssh'));
    await symlink('../.git/hooks', join(f.worktree, 'src', 'hooks'));
    await symlink('a.ts', join(f.worktree, 'src', 'inside'));
    await f.write('src/a.ts', 'export const a = 1;\n');
    await f.commit('links');
    const r = await f.verify();
    expect(r.ok).toBe(false);
    expect(r.categories).toEqual(['boundary_violation']);
    expect(r.boundaries.symlinks.map((v) => v.path)).toEqual([
      'src/hooks',
      'src/inside',
      'src/passwd',
      'src/ssh',
    ]);
    expect(r.boundaries.symlinks.find((v) => v.path === 'src/passwd')?.rule).toContain('/etc/passwd');
    expect(r.summary).toContain('symlinks: src/hooks, src/inside, src/passwd, src/ssh');
  });

  it('with allow_symlinks, keeps refusing links out of the repository or into .git and .orchestrator', async () => {
    const f = await fixture({ 'README.md': '# x\n' }, linkPlan);
    await mkdir(join(f.worktree, 'src', 'deep'), { recursive: true });
    await symlink('/etc/passwd', join(f.worktree, 'src', 'passwd'));
    await symlink(join(homedir(), '.ssh'), join(f.worktree, 'src', 'ssh'));
    await symlink('../../../..', join(f.worktree, 'src', 'deep', 'up'));
    await symlink('../.git/hooks', join(f.worktree, 'src', 'hooks'));
    await symlink('../.orchestrator', join(f.worktree, 'src', 'state'));
    // A chain: a harmless-looking link through another link that leads into .git.
    await symlink('hooks/pre-commit', join(f.worktree, 'src', 'chained'));
    await symlink('a.ts', join(f.worktree, 'src', 'inside'));
    await f.write('src/a.ts', 'export const a = 1;\n');
    await f.commit('links');
    const r = await f.verify({ config: allow });
    expect(r.boundaries.symlinks.map((v) => v.path)).toEqual([
      'src/chained',
      'src/deep/up',
      'src/hooks',
      'src/passwd',
      'src/ssh',
      'src/state',
    ]);
    expect(r.boundaries.symlinks.find((v) => v.path === 'src/hooks')?.rule).toMatch(/into \.git/);
    expect(r.boundaries.symlinks.find((v) => v.path === 'src/ssh')?.rule).toMatch(/outside the repository/);
  });

  it('with allow_symlinks, passes a link inside the repository but never gives it to {modified_files}', async () => {
    const f = await fixture({ 'README.md': '# x\n' }, linkPlan);
    await mkdir(join(f.worktree, 'src'), { recursive: true });
    await symlink('a.ts', join(f.worktree, 'src', 'inside'));
    await f.write('src/a.ts', 'export const a = 1;\n');
    await f.commit('link');
    const r = await f.verify({ config: allow });
    expect(r.ok).toBe(true);
    expect(r.boundaries.changed).toEqual(['src/a.ts', 'src/inside']);
    expect(r.commands[0]?.tail).toBe('[src/a.ts]');
  });
});

describe('verifyTask: the pinned commit', () => {
  it('verifies the HEAD the worktree is on and moves the task branch there, archiving what it does not contain', async () => {
    const f = await fixture({ 'README.md': '# x\n' }, simplePlan({}));
    await f.write('secret.txt', 'out of bounds\n');
    const bad = await f.commit('bad, on the task branch');
    await f.wt('checkout', '-q', '-b', 'decoy', f.base);
    await f.write('src/a.ts', 'export const a = 1;\n');
    const decoy = await f.commit('in bounds, on a decoy');
    const r = await f.verify({
      extra: { taskBranch: { name: 'orch/test/a', archive: 'orch/test/archive/a-1' } },
    });
    expect(r.ok).toBe(true);
    expect(r.headCommit).toBe(decoy);
    expect(r.headBranch).toBe('decoy');
    expect(r.verifiedTree).toBe(await f.repo.git('rev-parse', `${decoy}^{tree}`));
    expect(await f.repo.git('rev-parse', 'orch/test/a')).toBe(decoy);
    expect(await f.repo.git('rev-parse', 'orch/test/archive/a-1')).toBe(bad);
  });

  it('refuses a HEAD that does not descend from the task base, naming the branch', async () => {
    const f = await fixture({ 'README.md': '# x\n' }, simplePlan({}));
    await f.wt('checkout', '-q', '--orphan', 'my-feature');
    await f.write('src/a.ts', 'export const a = 1;\n');
    await f.commit('unrelated history');
    const r = await f.verify({
      extra: { taskBranch: { name: 'orch/test/a', archive: 'orch/test/archive/a-1' } },
    });
    expect(r.ok).toBe(false);
    expect(r.categories).toEqual(['boundary_violation']);
    expect(r.headProblem).toMatch(/branch my-feature/);
    expect(r.summary).toMatch(/my-feature.*orch\/test\/a/);
    expect(await f.repo.git('rev-parse', 'orch/test/a')).toBe(f.base);
  });

  it('runs the commands on a checkout of exactly the pinned commit when given one', async () => {
    const f = await fixture(
      { 'README.md': '# x\n' },
      simplePlan({ verification: [{ command: 'cat src/a.ts' }] }),
    );
    await f.write('src/a.ts', 'committed\n');
    const head = await f.commit('work');
    const elsewhere = join(f.repo.root, '.worktrees', 'check');
    const r = await f.verify({
      extra: {
        checkout: async (commit) => {
          expect(commit).toBe(head);
          await f.repo.git('worktree', 'add', '-q', '--detach', elsewhere, commit);
          // The worker's worktree changes meanwhile; the check does not see it.
          await f.write('src/a.ts', 'changed after the pin\n');
          return elsewhere;
        },
      },
    });
    expect(r.commands[0]?.tail).toBe('committed');
    expect(r.headCommit).toBe(head);
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

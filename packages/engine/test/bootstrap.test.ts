import { existsSync } from 'node:fs';
import {
  appendFile,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  realpath,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Config, OrchError, type ConfigInput } from '@orch/core';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { bootstrapWorktree, refreshWorktree } from '../src/worker/bootstrap.js';
import { NODE_MODULES_MARKER, refreshWorktreeDeps } from '../src/worker/install.js';

/**
 * A workspace project (`node_modules/lib` links to `../packages/lib`, as npm makes it) whose checkout
 * has node_modules installed; `lib` returns 1 there. Worktrees live inside it, as orch puts them.
 */
async function workspaceProject(): Promise<TempRepo> {
  const repo = await tempRepo({
    'package.json': JSON.stringify({
      name: 'app',
      version: '1.0.0',
      private: true,
      workspaces: ['packages/lib'],
    }),
    'packages/lib/package.json': JSON.stringify({ name: 'lib', version: '1.0.0', main: 'src/index.js' }),
    'packages/lib/src/index.js': 'exports.value = () => 1;\n',
    '.gitignore': 'node_modules/\n.venv/\n.worktrees/\n',
  });
  await execa('npm', ['install', '--offline', '--no-audit', '--no-fund'], { cwd: repo.root });
  await repo.commitAll('lockfile');
  return repo;
}

/** A worktree at `.worktrees/<name>` where `lib` returns 2. */
async function worktree(repo: TempRepo, name = 't1'): Promise<string> {
  const wt = join(repo.root, '.worktrees', name);
  await repo.git('worktree', 'add', '-q', '--detach', wt, 'HEAD');
  await writeFile(join(wt, 'packages/lib/src/index.js'), 'exports.value = () => 2;\n');
  return wt;
}

/** What `require('lib')` returns in `dir`. */
async function libValue(dir: string): Promise<string> {
  return (await execa('node', ['-e', "console.log(require('lib').value())"], { cwd: dir })).stdout;
}

const config = (input: ConfigInput['worktree'] = {}): Config => Config.parse({ worktree: input });
const env = process.env as Record<string, string>;

/** A copy of one installed project per test: the same files, links and git history, one install in all. */
let template: TempRepo;
beforeAll(async () => {
  template = await workspaceProject();
});
afterAll(() => template.cleanup());

let repos: TempRepo[] = [];
const project = async (): Promise<TempRepo> => {
  const root = join(await mkdtemp(join(tmpdir(), 'orch-test-')), 'repo');
  await execa('cp', ['-a', template.root, root]);
  const git = async (...args: string[]): Promise<string> => (await execa('git', args, { cwd: root })).stdout;
  const r: TempRepo = {
    root,
    git,
    write: async (path, content) => {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), content);
    },
    commitAll: async (message) => {
      await git('add', '-A');
      await git('commit', '-q', '--allow-empty', '-m', message);
      return git('rev-parse', 'HEAD');
    },
    cleanup: () => rm(dirname(root), { recursive: true, force: true }),
  };
  repos.push(r);
  return r;
};
afterEach(async () => {
  for (const r of repos) await r.cleanup();
  repos = [];
});

describe('bootstrapWorktree: Node dependencies', () => {
  it("gives a worktree inside the repository a node_modules of its own, so the workspace package is the worktree's", async () => {
    const repo = await project();
    const off = await worktree(repo, 'off');
    // The trap: with nothing done, Node walks up to the checkout's node_modules and its packages/lib.
    await bootstrapWorktree(repo.root, off, config({ install: 'off' }), env);
    expect(existsSync(join(off, 'node_modules'))).toBe(false);
    expect(await libValue(off)).toBe('1');

    const wt = await worktree(repo);
    const log = join(repo.root, '.orchestrator', 'logs', 't1-1.log');
    const r = await bootstrapWorktree(repo.root, wt, config(), env, { logFile: log });
    expect(await libValue(wt)).toBe('2');
    expect((await lstat(join(wt, 'node_modules'))).isSymbolicLink()).toBe(false);
    expect(r.install).toEqual([
      expect.stringMatching(/^node_modules: copied from the checkout \(the lockfiles match\)/),
    ]);
    expect(await readFile(log, 'utf8')).toMatch(/^\[orch bootstrap\] node_modules: copied from the checkout/);
    // The checkout is untouched, and git sees nothing new in the worktree.
    expect(await libValue(repo.root)).toBe('1');
    expect(existsSync(join(repo.root, 'node_modules', NODE_MODULES_MARKER))).toBe(false);
    expect(await execa('git', ['status', '--porcelain'], { cwd: wt }).then((x) => x.stdout)).toBe(
      ' M packages/lib/src/index.js',
    );
  });

  it('installs from the lockfile, offline first, when it differs from the checkout’s', async () => {
    const repo = await project();
    const wt = await worktree(repo);
    await appendFile(join(repo.root, 'package-lock.json'), '\n'); // the checkout's lockfile moved on
    const r = await bootstrapWorktree(repo.root, wt, config(), env);
    expect(r.install).toEqual([
      expect.stringMatching(/^node_modules: installed with `npm ci --offline --no-audit --no-fund`/),
    ]);
    expect(await libValue(wt)).toBe('2');
  });

  it('install: always installs from the lockfile', async () => {
    const repo = await project();
    const wt = await worktree(repo);
    const r = await bootstrapWorktree(repo.root, wt, config({ install: 'install' }), env);
    expect(r.install[0]).toMatch(/installed with `npm ci --offline/);
    expect(await libValue(wt)).toBe('2');
  });

  it('keeps a recycled worktree’s node_modules while the lockfile matches, and replaces it when not', async () => {
    const repo = await project();
    const wt = await worktree(repo);
    await bootstrapWorktree(repo.root, wt, config(), env);
    await writeFile(join(wt, 'node_modules', 'kept.txt'), 'x');
    expect((await bootstrapWorktree(repo.root, wt, config(), env)).install).toEqual([]);
    expect(existsSync(join(wt, 'node_modules', 'kept.txt'))).toBe(true);
    // The task's branch has another lockfile: the earlier copy goes, the lockfile is installed.
    await appendFile(join(wt, 'package-lock.json'), '\n');
    const r = await bootstrapWorktree(repo.root, wt, config(), env);
    expect(r.install[0]).toMatch(/installed with `npm ci --offline/);
    expect(existsSync(join(wt, 'node_modules', 'kept.txt'))).toBe(false);
    expect(await libValue(wt)).toBe('2');
  });

  it('without the package manager, copies the checkout’s node_modules, says so, and installs on a later bootstrap', async () => {
    const repo = await project();
    const wt = await worktree(repo);
    await appendFile(join(repo.root, 'package-lock.json'), '\n');
    const bin = await mkdtemp(join(tmpdir(), 'orch-path-'));
    try {
      const cp = (await execa('sh', ['-c', 'command -v cp'])).stdout;
      await symlink(cp, join(bin, 'cp'));
      const r = await bootstrapWorktree(repo.root, wt, config(), { ...env, PATH: bin });
      expect(r.install).toEqual([
        expect.stringMatching(/^npm is not on PATH: node_modules is a copy of the checkout's/),
        expect.stringMatching(/^node_modules: copied from the checkout in/),
      ]);
      expect(await libValue(wt)).toBe('2');
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
    // The copy is marked as the checkout's lockfile's, so a recycled worktree tries the install again.
    const again = await bootstrapWorktree(repo.root, wt, config(), env);
    expect(again.install).toEqual([expect.stringMatching(/^node_modules: installed with `npm ci --offline/)]);
  });

  it('when every install fails, still copies the checkout’s node_modules and logs each failure', async () => {
    const repo = await project();
    const wt = await worktree(repo);
    // package.json and its lockfile disagree: npm ci refuses, offline or not.
    const pkg = JSON.parse(await readFile(join(wt, 'package.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(
      join(wt, 'package.json'),
      JSON.stringify({ ...pkg, dependencies: { 'left-pad': '1.3.0' } }),
    );
    await appendFile(join(wt, 'package-lock.json'), '\n');
    const r = await bootstrapWorktree(repo.root, wt, config(), env);
    expect(r.install).toEqual([
      expect.stringMatching(/^`npm ci --offline --no-audit --no-fund` failed \(exit \d+: /),
      expect.stringMatching(/^`npm ci --prefer-offline --no-audit --no-fund` failed \(exit \d+: /),
      expect.stringMatching(/^node_modules: copied from the checkout \(every install failed; /),
    ]);
    expect(await libValue(wt)).toBe('2');
  });

  it("re-points absolute links into the checkout, and copies workspace folders' own node_modules", async () => {
    const repo = await project();
    await symlink(join(repo.root, 'packages', 'lib'), join(repo.root, 'node_modules', 'abs'));
    // A pnpm-style .bin shim naming the checkout's folders in NODE_PATH.
    const shim = (root: string): string =>
      `#!/bin/sh\nexport NODE_PATH="${root}/node_modules/.pnpm/node_modules:${root}/packages/lib/node_modules"\n`;
    await mkdir(join(repo.root, 'node_modules', '.bin'), { recursive: true });
    await writeFile(join(repo.root, 'node_modules', '.bin', 'tool'), shim(repo.root), { mode: 0o755 });
    const state = (root: string): string =>
      JSON.stringify({ projects: { [root]: {}, [`${root}/packages/lib`]: {} } });
    await writeFile(join(repo.root, 'node_modules', '.pnpm-workspace-state-v1.json'), state(repo.root));
    await mkdir(join(repo.root, 'packages/lib/node_modules/dep'), { recursive: true });
    await writeFile(join(repo.root, 'packages/lib/node_modules/dep/index.js'), 'module.exports = 7;\n');
    const wt = await worktree(repo);
    const r = await bootstrapWorktree(repo.root, wt, config(), env);
    expect(r.install[0]).toMatch(
      /and 1 workspace folder\(s\).*3 absolute link\(s\) or state file\(s\) re-pointed/,
    );
    expect(await readFile(join(wt, 'node_modules', '.bin', 'tool'), 'utf8')).toBe(shim(wt));
    expect(await readFile(join(wt, 'node_modules', '.pnpm-workspace-state-v1.json'), 'utf8')).toBe(state(wt));
    expect((await stat(join(wt, 'node_modules', '.bin', 'tool'))).mode & 0o777).toBe(0o755);
    expect(await readFile(join(repo.root, 'node_modules', '.bin', 'tool'), 'utf8')).toBe(shim(repo.root));
    expect(await readlink(join(wt, 'node_modules', 'abs'))).toBe(join(wt, 'packages', 'lib'));
    expect(await readlink(join(wt, 'node_modules', 'lib'))).toBe('../packages/lib');
    expect(await readFile(join(wt, 'packages/lib/node_modules/dep/index.js'), 'utf8')).toBe(
      'module.exports = 7;\n',
    );
  });

  it('a recycled worktree moved to another path keeps its node_modules, and its re-pointed links follow it', async () => {
    const repo = await project();
    await symlink(join(repo.root, 'packages', 'lib'), join(repo.root, 'node_modules', 'abs'));
    const first = await worktree(repo, '_pool-1');
    await bootstrapWorktree(repo.root, first, config(), env);
    const moved = join(repo.root, '.worktrees', 'next');
    await repo.git('worktree', 'move', first, moved);
    const r = await bootstrapWorktree(repo.root, moved, config(), env);
    expect(r.install).toEqual(['node_modules: kept; 1 link(s) or state file(s) follow the moved worktree']);
    expect(await readlink(join(moved, 'node_modules', 'abs'))).toBe(join(moved, 'packages', 'lib'));
    expect(await libValue(moved)).toBe('2');
    expect((await bootstrapWorktree(repo.root, moved, config(), env)).install).toEqual([]);
  });

  it('keeps a worktree.symlink link (it was asked for) and says in the log what it costs', async () => {
    const repo = await project();
    const wt = await worktree(repo);
    const r = await bootstrapWorktree(repo.root, wt, config({ symlink: ['node_modules'] }), env);
    expect(r.linked).toEqual(['node_modules']);
    expect(r.install.join('\n')).toMatch(/symbolic link.*load the checkout's code/);
    expect(await libValue(wt)).toBe('1');
  });

  it('does nothing when the checkout has no node_modules, or when install is off', async () => {
    const repo = await project();
    const off = await worktree(repo, 'off');
    expect((await bootstrapWorktree(repo.root, off, config({ install: 'off' }), env)).install).toEqual([]);
    await rm(join(repo.root, 'node_modules'), { recursive: true });
    const wt = await worktree(repo);
    expect((await bootstrapWorktree(repo.root, wt, config(), env)).install).toEqual([]);
    expect(existsSync(join(wt, 'node_modules'))).toBe(false);
  });

  it('makes no node_modules that git does not ignore', async () => {
    const repo = await project();
    await writeFile(join(repo.root, '.gitignore'), '.worktrees/\n');
    await repo.git('commit', '-qm', 'node_modules no longer ignored', '.gitignore');
    const wt = await worktree(repo);
    const r = await bootstrapWorktree(repo.root, wt, config(), env);
    expect(r.install.join('\n')).toMatch(/not ignored by git/);
    expect(existsSync(join(wt, 'node_modules'))).toBe(false);
  });

  it('copies an idle worktree’s node_modules made for the same lockfile instead of installing again, and installs when the lockfile is another', async () => {
    const repo = await project();
    // Staging's lockfile moved on from the checkout's: the first worktree installs for real.
    const first = await worktree(repo, '_pool-r1-0');
    await appendFile(join(first, 'package-lock.json'), '\n');
    expect((await bootstrapWorktree(repo.root, first, config(), env)).install[0]).toMatch(
      /installed with `npm ci --offline/,
    );
    // A link the package manager made with the path it ran in.
    await symlink(join(first, 'packages', 'lib'), join(first, 'node_modules', 'abs'));

    const next = await worktree(repo, 't2');
    await appendFile(join(next, 'package-lock.json'), '\n');
    const r = await bootstrapWorktree(repo.root, next, config(), env, { siblings: [first] });
    expect(r.install).toEqual([
      expect.stringMatching(
        /^node_modules: copied from \.worktrees\/_pool-r1-0 \(made for the same lockfiles\)/,
      ),
    ]);
    expect(await libValue(next)).toBe('2');
    expect(await readlink(join(next, 'node_modules', 'abs'))).toBe(join(next, 'packages', 'lib'));
    // The source is untouched; the copy is the worktree's own, marked for its lockfile.
    expect(await readlink(join(first, 'node_modules', 'abs'))).toBe(join(first, 'packages', 'lib'));
    expect((await bootstrapWorktree(repo.root, next, config(), env, { siblings: [first] })).install).toEqual(
      [],
    );

    // The task changed the lockfile: no sibling has a node_modules for it, so it installs.
    const changed = await worktree(repo, 't3');
    await appendFile(join(changed, 'package-lock.json'), '\n\n');
    const c = await bootstrapWorktree(repo.root, changed, config(), env, { siblings: [first, next] });
    expect(c.install).toEqual([expect.stringMatching(/^node_modules: installed with `npm ci --offline/)]);
    expect(await libValue(changed)).toBe('2');
  });

  it('runs a worktree.install command instead of detecting, and stops on its failure', async () => {
    const repo = await project();
    const wt = await worktree(repo);
    const r = await bootstrapWorktree(repo.root, wt, config({ install: 'echo custom > installed.txt' }), env);
    expect(r.install).toEqual(['ran worktree.install: echo custom > installed.txt']);
    expect(await readFile(join(wt, 'installed.txt'), 'utf8')).toBe('custom\n');
    expect(existsSync(join(wt, 'node_modules'))).toBe(false);
    const failing = bootstrapWorktree(
      repo.root,
      await worktree(repo, 't2'),
      config({ install: 'exit 9' }),
      env,
    );
    await expect(failing).rejects.toBeInstanceOf(OrchError);
    await expect(failing).rejects.toMatchObject({ code: 'ERR_ORCH_SETUP_FAILED' });
  });
});

describe('refreshing a used worktree (a retry after staging was merged in; the integration worktree)', () => {
  it('replaces node_modules when a checkout changed the lockfiles, keeps it otherwise', async () => {
    const repo = await project();
    const wt = await worktree(repo);
    await bootstrapWorktree(repo.root, wt, config(), env);
    expect(await refreshWorktreeDeps(repo.root, wt, config(), env)).toEqual([]);
    await appendFile(join(wt, 'package-lock.json'), '\n'); // staging's lockfile moved on
    // A retry's worktree, as launch refreshes it: the lines go to the new attempt's log.
    const log = join(repo.root, 'logs', 't1-2.log');
    const r = await refreshWorktree(repo.root, wt, config(), env, { logFile: log });
    expect(r).toEqual([expect.stringMatching(/^node_modules: installed with `npm ci --offline/)]);
    expect(await readFile(log, 'utf8')).toMatch(/^\[orch bootstrap\] node_modules: installed with/);
    expect(await refreshWorktreeDeps(repo.root, wt, config(), env)).toEqual([]);
    expect(await libValue(wt)).toBe('2');
    // A configured command ran once at bootstrap; a refresh does not repeat it.
    expect(await refreshWorktreeDeps(repo.root, wt, config({ install: 'exit 9' }), env)).toEqual([]);
  });
});

describe('bootstrapWorktree: Python environments', () => {
  it('makes a venv of the worktree’s own when the checkout has .venv and requirements.txt', async () => {
    const repo = await tempRepo({
      'requirements.txt': '# nothing yet\n',
      'app.py': 'VALUE = 1\n',
      '.gitignore': '.venv/\n.worktrees/\n',
    });
    repos.push(repo);
    await execa('python3', ['-m', 'venv', '--without-pip', join(repo.root, '.venv')]);
    const wt = join(repo.root, '.worktrees', 'py');
    await repo.git('worktree', 'add', '-q', '--detach', wt, 'HEAD');
    const r = await bootstrapWorktree(repo.root, wt, config(), env);
    expect(r.install).toEqual([
      expect.stringMatching(/^\.venv: made with .* \(requirements\.txt lists nothing\)/),
    ]);
    expect((await lstat(join(wt, '.venv'))).isSymbolicLink()).toBe(false);
    const prefix = await execa(join(wt, '.venv', 'bin', 'python'), ['-c', 'import sys; print(sys.prefix)'], {
      cwd: wt,
    });
    expect(await realpath(prefix.stdout)).toBe(await realpath(join(wt, '.venv')));
  });

  it('says in the log when uv or poetry is not installed, and goes on', async () => {
    const repo = await tempRepo({ 'uv.lock': 'version = 1\n', '.gitignore': '.worktrees/\n' });
    repos.push(repo);
    const wt = join(repo.root, '.worktrees', 'py');
    await repo.git('worktree', 'add', '-q', '--detach', wt, 'HEAD');
    const empty = await mkdtemp(join(tmpdir(), 'orch-path-'));
    try {
      const log = join(repo.root, 'worker.log');
      const r = await bootstrapWorktree(repo.root, wt, config(), { ...env, PATH: empty }, { logFile: log });
      expect(r.install).toEqual(['uv.lock found but uv is not on PATH: no Python environment was made']);
      expect(await readFile(log, 'utf8')).toBe(
        '[orch bootstrap] uv.lock found but uv is not on PATH: no Python environment was made\n',
      );
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

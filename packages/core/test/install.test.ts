import { describe, expect, it } from 'vitest';
import {
  Config,
  detectNodeManager,
  isNodeLockfile,
  nodeInstallCommands,
  parseConfig,
  planInstall,
  type InstallFacts,
} from '../src/index.js';

/** A Node project whose checkout has node_modules, and a fresh worktree with matching lockfiles. */
function facts(over: Partial<InstallFacts> = {}): InstallFacts {
  return {
    mode: 'auto',
    files: ['package-lock.json'],
    tools: ['npm', 'pnpm'],
    root: { nodeModules: true, venv: false },
    worktree: { nodeModules: 'absent', venv: 'absent' },
    nodeLockMatches: true,
    ignored: { nodeModules: true, venv: true },
    ...over,
  };
}

describe('worktree.install config', () => {
  it('defaults to auto and keeps the copy, symlink and setup keys', () => {
    const c = Config.parse({ worktree: { copy: ['.env'], symlink: ['vendor'], setup: ['make'] } });
    expect(c.worktree).toEqual({ copy: ['.env'], symlink: ['vendor'], setup: ['make'], install: 'auto' });
    expect(Config.parse({ worktree: { install: ' off ' } }).worktree.install).toBe('off');
    expect(Config.safeParse({ worktree: { install: '' } }).success).toBe(false);
    // Unquoted `off` in the config file is the keyword (YAML 1.2), not a boolean.
    expect(parseConfig('worktree:\n  install: off\n', '.claude-agents.yaml').worktree.install).toBe('off');
  });
});

describe('Node lockfiles and managers', () => {
  it('knows each manager by its lockfile, at any depth', () => {
    expect(isNodeLockfile('package-lock.json')).toBe(true);
    expect(isNodeLockfile('packages/a/pnpm-lock.yaml')).toBe(true);
    expect(isNodeLockfile('bun.lockb')).toBe(true);
    expect(isNodeLockfile('uv.lock')).toBe(false);
    expect(isNodeLockfile('package.json')).toBe(false);
    expect(detectNodeManager(['yarn.lock']).manager).toBe('yarn');
    expect(detectNodeManager(['bun.lock', 'bun.lockb']).manager).toBe('bun');
  });

  it('takes package.json packageManager over lockfiles, and names no manager when lockfiles disagree', () => {
    expect(detectNodeManager(['package-lock.json', 'pnpm-lock.yaml'])).toEqual({
      lockfiles: ['package-lock.json', 'pnpm-lock.yaml'],
    });
    expect(detectNodeManager(['package-lock.json', 'pnpm-lock.yaml'], 'pnpm@10.1.0').manager).toBe('pnpm');
    expect(detectNodeManager(['package-lock.json'], 'deno@2').manager).toBe('npm');
    expect(detectNodeManager([]).manager).toBeUndefined();
  });

  it('installs exactly the lockfile, offline first', () => {
    expect(nodeInstallCommands('npm', [])).toEqual([
      ['npm', 'ci', '--offline', '--no-audit', '--no-fund'],
      ['npm', 'ci', '--prefer-offline', '--no-audit', '--no-fund'],
    ]);
    expect(nodeInstallCommands('pnpm', [])).toEqual([
      ['pnpm', 'install', '--frozen-lockfile', '--offline'],
      ['pnpm', 'install', '--frozen-lockfile', '--prefer-offline'],
    ]);
    expect(nodeInstallCommands('yarn', [])[0]).toEqual(['yarn', 'install', '--frozen-lockfile', '--offline']);
    expect(nodeInstallCommands('yarn', ['.yarnrc.yml'])).toEqual([['yarn', 'install', '--immutable']]);
    expect(nodeInstallCommands('bun', [])).toEqual([['bun', 'install', '--frozen-lockfile']]);
  });
});

describe('planInstall: Node', () => {
  it("copies the checkout's node_modules when the lockfiles match", () => {
    expect(planInstall(facts())).toEqual({ node: { action: 'clone' }, notes: [] });
  });

  it('installs from the lockfile when it differs from the checkout’s, or when install is asked for', () => {
    const install = { action: 'install', manager: 'npm', attempts: nodeInstallCommands('npm', []) };
    expect(planInstall(facts({ nodeLockMatches: false })).node).toEqual(install);
    expect(planInstall(facts({ mode: 'install' })).node).toEqual(install);
    const pnpm = planInstall(facts({ files: ['pnpm-lock.yaml'], nodeLockMatches: false })).node;
    expect(pnpm).toMatchObject({ action: 'install', manager: 'pnpm' });
  });

  it('does nothing when the checkout has no node_modules (nothing to walk up to)', () => {
    expect(planInstall(facts({ root: { nodeModules: false, venv: false } }))).toEqual({ notes: [] });
    expect(planInstall(facts({ files: [], root: { nodeModules: false, venv: false } }))).toEqual({
      notes: [],
    });
  });

  it('still gives the worktree a node_modules of its own when no install is possible, and says why', () => {
    const noTool = planInstall(facts({ tools: [], nodeLockMatches: false }));
    expect(noTool.node).toEqual({ action: 'clone' });
    expect(noTool.notes.join('\n')).toMatch(/npm is not on PATH/);
    const ambiguous = planInstall(
      facts({ files: ['package-lock.json', 'yarn.lock'], nodeLockMatches: false }),
    );
    expect(ambiguous.node).toEqual({ action: 'clone' });
    expect(ambiguous.notes.join('\n')).toMatch(/several lockfiles \(package-lock\.json, yarn\.lock\)/);
    const noLock = planInstall(facts({ files: [], mode: 'install' }));
    expect(noLock.node).toEqual({ action: 'clone' });
    expect(noLock.notes.join('\n')).toMatch(/no Node lockfile/);
  });

  it('keeps what is there: a current copy, a folder made by something else; warns about a symlink', () => {
    expect(planInstall(facts({ worktree: { nodeModules: 'current', venv: 'absent' } }))).toEqual({
      notes: [],
    });
    expect(planInstall(facts({ worktree: { nodeModules: 'other', venv: 'absent' } }))).toEqual({ notes: [] });
    const linked = planInstall(facts({ worktree: { nodeModules: 'symlink', venv: 'absent' } }));
    expect(linked.node).toBeUndefined();
    expect(linked.notes.join('\n')).toMatch(/symbolic link.*load the checkout's code/);
  });

  it('replaces a stale copy of an earlier bootstrap', () => {
    const p = planInstall(
      facts({ worktree: { nodeModules: 'stale', venv: 'absent' }, nodeLockMatches: false }),
    );
    expect(p.replaceNodeModules).toBe(true);
    expect(p.node).toMatchObject({ action: 'install' });
  });

  it('makes no node_modules git would not ignore (a worker would commit it)', () => {
    const p = planInstall(facts({ ignored: { nodeModules: false, venv: true } }));
    expect(p.node).toBeUndefined();
    expect(p.notes.join('\n')).toMatch(/not ignored by git/);
  });
});

describe('planInstall: modes', () => {
  it('off does nothing; any other text is a command run instead of detection', () => {
    expect(planInstall(facts({ mode: 'off' }))).toEqual({ notes: [] });
    expect(planInstall(facts({ mode: 'pnpm install --offline' }))).toEqual({
      command: 'pnpm install --offline',
      notes: [],
    });
  });
});

describe('planInstall: Python', () => {
  const py = (over: Partial<InstallFacts>): InstallFacts =>
    facts({ root: { nodeModules: false, venv: false }, files: [], ...over });

  it('uv.lock: uv sync from the lockfile, offline first, when uv is on PATH', () => {
    expect(planInstall(py({ files: ['uv.lock'], tools: ['uv'] })).python).toEqual({
      action: 'run',
      tool: 'uv',
      attempts: [
        ['uv', 'sync', '--frozen', '--offline'],
        ['uv', 'sync', '--frozen'],
      ],
    });
  });

  it('poetry.lock: poetry install, when poetry is on PATH', () => {
    expect(planInstall(py({ files: ['poetry.lock'], tools: ['poetry'] })).python).toEqual({
      action: 'run',
      tool: 'poetry',
      attempts: [['poetry', 'install', '--no-interaction']],
    });
  });

  it('says so and goes on when the tool is missing or the lockfiles disagree', () => {
    const missing = planInstall(py({ files: ['uv.lock'], tools: [] }));
    expect(missing.python).toBeUndefined();
    expect(missing.notes).toEqual(['uv.lock found but uv is not on PATH: no Python environment was made']);
    const both = planInstall(py({ files: ['uv.lock', 'poetry.lock'], tools: ['uv', 'poetry'] }));
    expect(both.python).toBeUndefined();
    expect(both.notes.join('\n')).toMatch(/both uv\.lock and poetry\.lock/);
  });

  it('a checkout .venv with requirements.txt: a venv of the worktree’s own, never a link', () => {
    const base = { files: ['requirements.txt'], root: { nodeModules: false, venv: true } };
    expect(planInstall(py(base)).python).toEqual({ action: 'venv', requirements: 'requirements.txt' });
    // No checkout venv, or no requirements: nothing to mirror.
    expect(planInstall(py({ files: ['requirements.txt'] })).python).toBeUndefined();
    expect(planInstall(py({ ...base, files: [] })).python).toBeUndefined();
    // One already there (a recycled worktree) stays; a linked one is named as the trap it is.
    expect(
      planInstall(py({ ...base, worktree: { nodeModules: 'absent', venv: 'other' } })).python,
    ).toBeUndefined();
    const linked = planInstall(py({ ...base, worktree: { nodeModules: 'absent', venv: 'symlink' } }));
    expect(linked.python).toBeUndefined();
    expect(linked.notes.join('\n')).toMatch(/\.venv is a symbolic link/);
    const unignored = planInstall(py({ ...base, ignored: { nodeModules: true, venv: false } }));
    expect(unignored.python).toBeUndefined();
    expect(unignored.notes.join('\n')).toMatch(/not ignored by git/);
  });

  it('plans Node and Python side by side', () => {
    const p = planInstall(facts({ files: ['package-lock.json', 'uv.lock'], tools: ['npm', 'uv'] }));
    expect(p.node).toEqual({ action: 'clone' });
    expect(p.python).toMatchObject({ action: 'run', tool: 'uv' });
  });
});

/**
 * What a new worktree needs so its tests import its own code: the decision, as a pure function of
 * facts the engine gathers. Node resolves a package through the real path of `node_modules/<pkg>`
 * (workspaces, `file:` links, module-alias point back into the project), so a worktree that uses
 * the checkout's `node_modules` — linked, or found by walking up from `.worktrees/<task>` — loads
 * the checkout's source. A worktree therefore gets its own copy (byte-identical lockfiles) or an
 * install from its lockfile; never a link. Python: one environment per worktree, where the
 * project's tool is unambiguous.
 */

export type NodeManager = 'npm' | 'pnpm' | 'yarn' | 'bun';

/** Node lockfiles and the package manager each one belongs to. */
export const NODE_LOCKFILES: Readonly<Record<string, NodeManager>> = {
  'package-lock.json': 'npm',
  'pnpm-lock.yaml': 'pnpm',
  'yarn.lock': 'yarn',
  'bun.lock': 'bun',
  'bun.lockb': 'bun',
};

/** Whether a repo-relative path names a Node lockfile (at any depth). */
export function isNodeLockfile(path: string): boolean {
  return Object.hasOwn(NODE_LOCKFILES, path.slice(path.lastIndexOf('/') + 1));
}

/** `worktree.install`: the keywords; any other text is a shell command run instead. */
export const INSTALL_KEYWORDS = ['auto', 'install', 'off'] as const;

/** The state of a path in the new worktree. */
export type PathState =
  | 'absent'
  /** A symbolic link (`worktree.symlink`): kept, with a warning for node_modules. */
  | 'symlink'
  /** Made by an earlier bootstrap for the same lockfiles (a recycled worktree): kept. */
  | 'current'
  /** Made by an earlier bootstrap for other lockfiles: replaced. */
  | 'stale'
  /** Made by something else (the user's setup, a copy): kept. */
  | 'other';

export interface InstallFacts {
  /** `worktree.install`. */
  mode: string;
  /** Names of the files at the worktree's top level (only the ones below matter). */
  files: readonly string[];
  /** package.json's `packageManager` field in the worktree, if any. */
  packageManager?: string | undefined;
  /** Which of the candidate tools (npm, pnpm, yarn, bun, uv, poetry) are on PATH. */
  tools: readonly string[];
  /** Whether the user's checkout has them. */
  root: { nodeModules: boolean; venv: boolean };
  worktree: { nodeModules: PathState; venv: PathState };
  /** Whether every Node lockfile of the worktree is byte-identical in the checkout (or neither has one). */
  nodeLockMatches: boolean;
  /** Whether git ignores the path in the worktree (a path git does not ignore would be committed). */
  ignored: { nodeModules: boolean; venv: boolean };
}

export type NodeStep =
  /** Copy the checkout's node_modules (copy-on-write where the filesystem can). */
  | { action: 'clone' }
  /**
   * Install from the lockfile: try each command in turn; when all fail, copy the checkout's
   * node_modules so modules still resolve inside the worktree.
   */
  | { action: 'install'; manager: NodeManager; attempts: string[][] };

export type PythonStep =
  | { action: 'run'; tool: 'uv' | 'poetry'; attempts: string[][] }
  /** A venv of the worktree's own (`python -m venv .venv`), then pip install -r the file. */
  | { action: 'venv'; requirements: string };

export interface InstallPlan {
  /** Set when `worktree.install` is a command: run it (`sh -c`) instead of detecting. */
  command?: string;
  /** Remove the worktree's stale node_modules (an earlier bootstrap's) before the step. */
  replaceNodeModules?: boolean;
  node?: NodeStep;
  python?: PythonStep;
  /** What was found and not done, for the worker's log. */
  notes: string[];
}

/** The commands, offline first, that install exactly a lockfile. */
export function nodeInstallCommands(manager: NodeManager, files: readonly string[]): string[][] {
  switch (manager) {
    case 'npm':
      return [
        ['npm', 'ci', '--offline', '--no-audit', '--no-fund'],
        ['npm', 'ci', '--prefer-offline', '--no-audit', '--no-fund'],
      ];
    case 'pnpm':
      return [
        ['pnpm', 'install', '--frozen-lockfile', '--offline'],
        ['pnpm', 'install', '--frozen-lockfile', '--prefer-offline'],
      ];
    case 'yarn':
      // Yarn 2+ (a .yarnrc.yml) has neither --frozen-lockfile nor --offline.
      return files.includes('.yarnrc.yml')
        ? [['yarn', 'install', '--immutable']]
        : [
            ['yarn', 'install', '--frozen-lockfile', '--offline'],
            ['yarn', 'install', '--frozen-lockfile', '--prefer-offline'],
          ];
    case 'bun':
      return [['bun', 'install', '--frozen-lockfile']];
  }
}

/**
 * The package manager of a project: package.json's `packageManager` field when it names a known
 * one, else the only manager whose lockfile is present; undefined when none or several.
 */
export function detectNodeManager(
  files: readonly string[],
  packageManager?: string,
): { manager?: NodeManager; lockfiles: string[] } {
  const lockfiles = files.filter((f) => Object.hasOwn(NODE_LOCKFILES, f)).sort();
  const named = /^(npm|pnpm|yarn|bun)(@|$)/.exec(packageManager ?? '')?.[1] as NodeManager | undefined;
  if (named) return { manager: named, lockfiles };
  const managers = [...new Set(lockfiles.map((f) => NODE_LOCKFILES[f]!))];
  return managers.length === 1 ? { manager: managers[0]!, lockfiles } : { lockfiles };
}

function planNode(f: InstallFacts, plan: InstallPlan): void {
  const state = f.worktree.nodeModules;
  if (!f.root.nodeModules) return; // nothing to walk up to, nothing to copy
  if (state === 'symlink') {
    plan.notes.push(
      'node_modules is a symbolic link (worktree.symlink): packages that resolve through their real path ' +
        "(workspaces, file: links, module-alias) load the checkout's code, not this worktree's",
    );
    return;
  }
  if (state === 'current' || state === 'other') return;
  if (!f.ignored.nodeModules) {
    plan.notes.push(
      'node_modules is not ignored by git here, so none was made (a worker would commit it); ' +
        "add node_modules/ to .gitignore, or this worktree's modules resolve from the checkout's",
    );
    return;
  }
  if (state === 'stale') plan.replaceNodeModules = true;
  if (f.mode === 'auto' && f.nodeLockMatches) {
    plan.node = { action: 'clone' };
    return;
  }
  const { manager, lockfiles } = detectNodeManager(f.files, f.packageManager);
  if (lockfiles.length === 0 && !manager) {
    plan.notes.push("no Node lockfile to install from: node_modules is a copy of the checkout's");
    plan.node = { action: 'clone' };
  } else if (!manager) {
    plan.notes.push(
      `several lockfiles (${lockfiles.join(', ')}) and no packageManager field in package.json: ` +
        "node_modules is a copy of the checkout's, which may not match this worktree's lockfiles",
    );
    plan.node = { action: 'clone' };
  } else if (!f.tools.includes(manager)) {
    plan.notes.push(
      `${manager} is not on PATH: node_modules is a copy of the checkout's, which may not match this worktree's lockfile`,
    );
    plan.node = { action: 'clone' };
  } else {
    plan.node = { action: 'install', manager, attempts: nodeInstallCommands(manager, f.files) };
  }
}

function planPython(f: InstallFacts, plan: InstallPlan): void {
  const uv = f.files.includes('uv.lock');
  const poetry = f.files.includes('poetry.lock');
  if (f.worktree.venv === 'symlink') {
    plan.notes.push(
      ".venv is a symbolic link (worktree.symlink): editable installs in it import the checkout's code",
    );
    return;
  }
  if (uv && poetry) {
    plan.notes.push('both uv.lock and poetry.lock: no Python environment was made (set worktree.install)');
    return;
  }
  if (uv || poetry) {
    const tool = uv ? 'uv' : 'poetry';
    if (!f.tools.includes(tool)) {
      plan.notes.push(`${tool}.lock found but ${tool} is not on PATH: no Python environment was made`);
      return;
    }
    plan.python = uv
      ? {
          action: 'run',
          tool,
          attempts: [
            ['uv', 'sync', '--frozen', '--offline'],
            ['uv', 'sync', '--frozen'],
          ],
        }
      : { action: 'run', tool, attempts: [['poetry', 'install', '--no-interaction']] };
    return;
  }
  if (!f.root.venv || !f.files.includes('requirements.txt')) return;
  if (f.worktree.venv !== 'absent') return;
  if (!f.ignored.venv) {
    plan.notes.push('.venv is not ignored by git here, so none was made (a worker would commit it)');
    return;
  }
  plan.python = { action: 'venv', requirements: 'requirements.txt' };
}

/** Decides what a new worktree's bootstrap installs; see the module comment. */
export function planInstall(f: InstallFacts): InstallPlan {
  const plan: InstallPlan = { notes: [] };
  const mode = f.mode.trim();
  if (mode === 'off') return plan;
  if (!(INSTALL_KEYWORDS as readonly string[]).includes(mode)) return { command: mode, notes: [] };
  planNode(f, plan);
  planPython(f, plan);
  return plan;
}

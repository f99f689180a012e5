/**
 * A new worktree's own dependencies (`worktree.install`, decided by `planInstall` in core): a
 * copy-on-write copy of the checkout's node_modules when the lockfiles match, else an install
 * from the lockfile, offline first; a Python environment of its own. Never a link to the
 * checkout's: packages that resolve through their real path would load the checkout's code.
 *
 * A copy, not hard links: a worker, a postinstall script or a tool's cache writing into a
 * hard-linked file would change the user's checkout and every other worktree with it.
 */
import { constants, existsSync } from 'node:fs';
import {
  access,
  cp,
  lstat,
  mkdir,
  readFile,
  readdir,
  readlink,
  realpath,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { basename, delimiter, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { execa } from 'execa';
import {
  envHashFromFiles,
  isNodeLockfile,
  planInstall,
  type Config,
  type InstallFacts,
  type PathState,
  traced,
} from '@orch/core';
import { runGit } from '@orch/git';

/** Written into a node_modules orch made, so a recycled worktree knows which lockfiles it matches. */
export const NODE_MODULES_MARKER = '.orch-bootstrap.json';

const TOOLS = ['npm', 'pnpm', 'yarn', 'bun', 'uv', 'poetry'] as const;
const TOP_FILES = [
  'package-lock.json',
  'pnpm-lock.yaml',
  'yarn.lock',
  'bun.lock',
  'bun.lockb',
  '.yarnrc.yml',
  'uv.lock',
  'poetry.lock',
  'requirements.txt',
];
const PYTHON_FILES = ['uv.lock', 'poetry.lock', 'requirements.txt'];

export interface Marker {
  key: string;
  /** Workspace folders whose node_modules were copied too. */
  nested: string[];
  /** The worktree it was made in: a pool worktree moves, and its re-pointed links must follow. */
  at?: string;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function toolsOnPath(env: Record<string, string>): Promise<string[]> {
  const dirs = (env.PATH ?? process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const found: string[] = [];
  for (const tool of TOOLS) {
    for (const d of dirs) {
      if (await isExecutable(join(d, tool))) {
        found.push(tool);
        break;
      }
    }
  }
  return found;
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** What a node_modules orch made was made for (its lockfiles' hash), or undefined. */
export async function readMarker(dir: string): Promise<Marker | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, NODE_MODULES_MARKER), 'utf8')) as Partial<Marker>;
    if (typeof m.key !== 'string') return undefined;
    const nested = Array.isArray(m.nested) ? m.nested.filter((n): n is string => typeof n === 'string') : [];
    return { key: m.key, nested, ...(typeof m.at === 'string' ? { at: m.at } : {}) };
  } catch {
    return undefined;
  }
}

async function pathState(path: string, key?: string): Promise<PathState> {
  const s = await lstat(path).catch(traced('install.lstat'));
  if (!s) return 'absent';
  if (s.isSymbolicLink()) return 'symlink';
  if (key === undefined || !s.isDirectory()) return 'other';
  const marker = await readMarker(path);
  if (!marker) return 'other';
  return marker.key === key ? 'current' : 'stale';
}

/** The paths among `paths` that git ignores in the worktree (a trailing `/` asks about a folder). */
async function ignoredPaths(worktree: string, paths: string[]): Promise<Set<string>> {
  const r = await runGit(['check-ignore', '-z', '--stdin'], {
    cwd: worktree,
    input: paths.join('\0'),
    reject: false,
  });
  return new Set(r.stdout.split('\0').filter(Boolean));
}

/** Copies a folder, copy-on-write where the filesystem can (reflink), keeping relative links as they are. */
export async function cloneDir(from: string, to: string, timeoutMs: number): Promise<void> {
  const src = await realpath(from);
  await mkdir(to, { recursive: true });
  if (process.platform === 'linux') {
    const r = await execa('cp', ['-a', '--reflink=auto', `${src}/.`, to], {
      reject: false,
      all: true,
      timeout: timeoutMs,
    });
    if (r.exitCode === 0) return;
    await rm(to, { recursive: true, force: true });
    await mkdir(to, { recursive: true });
  }
  await cp(src, to, {
    recursive: true,
    verbatimSymlinks: true,
    preserveTimestamps: true,
    mode: constants.COPYFILE_FICLONE,
  });
}

/**
 * Re-points absolute links of a copied node_modules that lead into the checkout (relative ones
 * already lead into the worktree). Top level, scopes and `.bin` are where package managers link;
 * pnpm's `.bin` shims are small scripts that name the checkout's folders in NODE_PATH, and its
 * top-level state files (`.pnpm-workspace-state-v1.json`) name the checkout's projects.
 */
async function relinkAbsolute(
  dir: string,
  roots: string[],
  worktree: string,
  skip?: string,
): Promise<number> {
  let changed = 0;
  const visit = async (d: string, depth: number): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(d, e.name);
      const textFile =
        basename(d) === '.bin' || (depth === 0 && e.name.startsWith('.') && e.name !== NODE_MODULES_MARKER);
      if (e.isFile() && textFile && (await stat(p)).size < 64 * 1024) {
        const text = await readFile(p, 'utf8');
        let next = text;
        for (const r of roots) {
          // The path itself or below it (it ends where a path ends in scripts and JSON), not the worktrees.
          const end = `(?=$|[/"':;\\s])`;
          const unless = skip ? `(?!/${escapeRegExp(relative(r, skip))}${end})` : '';
          const inRoot = new RegExp(`${escapeRegExp(r)}${unless}${end}`, 'g');
          next = next.replace(inRoot, worktree);
        }
        if (next !== text) {
          await writeFile(p, next); // keeps the file's mode
          changed++;
        }
      } else if (e.isSymbolicLink()) {
        const target = await readlink(p);
        if (!isAbsolute(target)) continue;
        const root = roots.find((r) => target === r || target.startsWith(r + sep));
        if (!root || (skip && target.startsWith(skip + sep))) continue;
        await unlink(p);
        await symlink(join(worktree, relative(root, target)), p);
        changed++;
      } else if (e.isDirectory() && depth === 0 && (e.name.startsWith('@') || e.name === '.bin')) {
        await visit(p, 1);
      }
    }
  };
  await visit(dir, 0);
  return changed;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Folders of tracked package.json files below the top (workspace packages). */
function packageDirs(tracked: readonly string[]): string[] {
  return tracked
    .filter((p) => p.endsWith('/package.json') && !p.split('/').includes('node_modules'))
    .map((p) => dirname(p));
}

async function run(
  argv: string[],
  cwd: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ ok: boolean; tail: string }> {
  const r = await execa(argv[0]!, argv.slice(1), { cwd, env, reject: false, all: true, timeout: timeoutMs });
  const out = String(r.all ?? '').trim();
  const tail = r.timedOut
    ? 'timed out'
    : `exit ${r.exitCode ?? '?'}: ${out.split('\n').slice(-3).join(' | ')}`;
  return { ok: r.exitCode === 0 && !r.timedOut, tail };
}

const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/**
 * Gives a new worktree its own dependencies. Returns the lines for the worker's log (what was done,
 * what was found and left alone). A configured command that fails throws (as a setup command does).
 */
export interface InstallOptions {
  python?: boolean;
  /**
   * Other worktrees of the run that no worker uses (spares): a node_modules of theirs made for the
   * same lockfiles (its marker's key) is copied instead of running the package manager again.
   */
  siblings?: readonly string[];
  /**
   * No checkout to mirror (a worker host, whose `repoRoot` is the worktree itself): a worktree with
   * a Node lockfile gets an install of it (or a sibling's node_modules made for the same
   * lockfiles), never a copy of a checkout's.
   */
  noCheckout?: boolean;
}

export async function installWorktreeDeps(
  repoRoot: string,
  worktree: string,
  config: Config,
  env: Record<string, string>,
  runCommand: (command: string) => Promise<void>,
  opts: InstallOptions = {},
): Promise<string[]> {
  const mode = config.worktree.install;
  if (mode === 'off') return [];
  if (mode !== 'auto' && mode !== 'install') {
    await runCommand(mode);
    return [`ran worktree.install: ${mode}`];
  }
  const python = opts.python ?? true;
  const timeoutMs = config.verification.timeout * 1000;
  const top = new Set(await readdir(worktree).catch(() => [] as string[]));
  const files = TOP_FILES.filter((f) => top.has(f) && (python || !PYTHON_FILES.includes(f)));
  const noCheckout = opts.noCheckout ?? false;
  const rootNodeModules = noCheckout
    ? files.some(isNodeLockfile)
    : await isDir(join(repoRoot, 'node_modules'));
  // Most projects: nothing to mirror, so no git process and no hashing.
  if (!rootNodeModules && !files.some((f) => PYTHON_FILES.includes(f))) return [];
  const tracked = (await runGit(['ls-files', '-z'], { cwd: worktree })).stdout.split('\0').filter(Boolean);
  const locks = tracked.filter(isNodeLockfile);
  const [rootLock, ownLock] = await Promise.all([
    envHashFromFiles(repoRoot, locks),
    envHashFromFiles(worktree, locks),
  ]);
  const key = ownLock.hash;
  const nested = packageDirs(tracked);
  const pkg = await readFile(join(worktree, 'package.json'), 'utf8')
    .then((t) => JSON.parse(t) as { packageManager?: unknown })
    .catch(() => ({}) as { packageManager?: unknown });
  const ignored = await ignoredPaths(worktree, [
    'node_modules/',
    '.venv/',
    ...nested.map((d) => `${d}/node_modules/`),
  ]);
  const facts: InstallFacts = {
    mode,
    files,
    packageManager: typeof pkg.packageManager === 'string' ? pkg.packageManager : undefined,
    tools: await toolsOnPath(env),
    root: {
      nodeModules: rootNodeModules,
      venv: !noCheckout && existsSync(join(repoRoot, '.venv', 'pyvenv.cfg')),
    },
    worktree: {
      nodeModules: await pathState(join(worktree, 'node_modules'), key),
      venv: await pathState(join(worktree, '.venv')),
    },
    nodeLockMatches: !noCheckout && rootLock.hash === ownLock.hash,
    ignored: { nodeModules: ignored.has('node_modules/'), venv: ignored.has('.venv/') },
  };
  const plan = planInstall(facts);
  const lines = [...plan.notes];
  const nm = join(worktree, 'node_modules');

  const clone = async (why?: string): Promise<void> => {
    const t0 = Date.now();
    await rm(nm, { recursive: true, force: true });
    await cloneDir(join(repoRoot, 'node_modules'), nm, timeoutMs);
    const copied: string[] = [];
    for (const d of nested) {
      const from = join(repoRoot, d, 'node_modules');
      const to = join(worktree, d, 'node_modules');
      if (!ignored.has(`${d}/node_modules/`) || !(await isDir(from)) || existsSync(to)) continue;
      await cloneDir(from, to, timeoutMs);
      copied.push(d);
    }
    const roots = [...new Set([repoRoot, await realpath(repoRoot)])];
    const skip = join(repoRoot, config.orchestration.worktree_dir);
    let relinked = 0;
    for (const d of ['', ...copied])
      relinked += await relinkAbsolute(join(worktree, d, 'node_modules'), roots, worktree, skip);
    // The copy holds what the checkout's lockfiles describe: a worktree with others retries the install.
    await writeMarker(nm, { key: rootLock.hash, nested: copied, at: worktree });
    const extra = copied.length > 0 ? ` and ${copied.length} workspace folder(s)` : '';
    const links =
      relinked > 0 ? `; ${relinked} absolute link(s) or state file(s) re-pointed into the worktree` : '';
    const because = why ? ` (${why})` : '';
    lines.push(`node_modules: copied from the checkout${extra}${because} in ${seconds(t0)}${links}`);
  };

  if (facts.worktree.nodeModules === 'current') {
    const kept = await readMarker(nm);
    if (kept?.at && kept.at !== worktree) {
      let moved = 0;
      for (const d of ['', ...kept.nested])
        moved += await relinkAbsolute(join(worktree, d, 'node_modules'), [kept.at], worktree);
      await writeMarker(nm, { ...kept, at: worktree });
      if (moved > 0)
        lines.push(`node_modules: kept; ${moved} link(s) or state file(s) follow the moved worktree`);
    }
  }
  if (plan.replaceNodeModules) {
    const old = await readMarker(nm);
    for (const d of old?.nested ?? [])
      await rm(join(worktree, d, 'node_modules'), { recursive: true, force: true });
    await rm(nm, { recursive: true, force: true });
  }
  /**
   * A node_modules installed (or copied) for these very lockfiles in another worktree, keyed by
   * their hash: copied, with its links re-pointed, instead of another install.
   */
  const reuse = async (): Promise<boolean> => {
    for (const sib of opts.siblings ?? []) {
      if (sib === worktree) continue;
      const from = join(sib, 'node_modules');
      const marker = await readMarker(from);
      if (marker?.key !== key) continue;
      const t0 = Date.now();
      const copied: string[] = [];
      try {
        await rm(nm, { recursive: true, force: true });
        await cloneDir(from, nm, timeoutMs);
        // Workspace folders' own (pnpm makes them), wherever the sibling has one git ignores.
        for (const d of nested) {
          const src = join(sib, d, 'node_modules');
          const to = join(worktree, d, 'node_modules');
          if (!ignored.has(`${d}/node_modules/`) || !(await isDir(src)) || existsSync(to)) continue;
          await cloneDir(src, to, timeoutMs);
          copied.push(d);
        }
      } catch (e) {
        traced('install.reuse')(e);
        await rm(nm, { recursive: true, force: true });
        for (const d of copied) await rm(join(worktree, d, 'node_modules'), { recursive: true, force: true });
        continue;
      }
      // Links and state files name where it was made (the sibling, before it moved) or, for a copy
      // of the checkout's, the checkout (never another worktree inside it).
      const own = [...new Set([sib, marker.at ?? sib])];
      const checkout = [...new Set([repoRoot, await realpath(repoRoot)])];
      const skip = join(repoRoot, config.orchestration.worktree_dir);
      for (const d of ['', ...copied]) {
        await relinkAbsolute(join(worktree, d, 'node_modules'), own, worktree);
        await relinkAbsolute(join(worktree, d, 'node_modules'), checkout, worktree, skip);
      }
      await writeMarker(nm, { key, nested: copied, at: worktree });
      lines.push(
        `node_modules: copied from ${relative(repoRoot, sib) || sib} (made for the same lockfiles) in ${seconds(t0)}`,
      );
      return true;
    }
    return false;
  };

  if (noCheckout && plan.node?.action === 'clone') {
    lines.push('no node_modules was made: there is no checkout here to copy one from');
  } else if (plan.node?.action === 'clone') {
    await clone(facts.nodeLockMatches ? 'the lockfiles match' : undefined);
  } else if (plan.node?.action === 'install' && mode === 'auto' && (await reuse())) {
    // done
  } else if (plan.node?.action === 'install') {
    let done = false;
    for (const argv of plan.node.attempts) {
      const t0 = Date.now();
      const r = await run(argv, worktree, env, timeoutMs);
      if (r.ok) {
        lines.push(`node_modules: installed with \`${argv.join(' ')}\` in ${seconds(t0)}`);
        // The workspace folders it gave a node_modules of their own (pnpm does), to replace them too.
        const made: string[] = [];
        for (const d of nested)
          if (ignored.has(`${d}/node_modules/`) && (await isDir(join(worktree, d, 'node_modules'))))
            made.push(d);
        await writeMarker(nm, { key, nested: made, at: worktree });
        done = true;
        break;
      }
      lines.push(`\`${argv.join(' ')}\` failed (${r.tail})`);
    }
    if (!done && noCheckout) lines.push('no node_modules was made: every install failed');
    else if (!done) await clone("every install failed; it may not match this worktree's lockfile");
  }

  const py = plan.python;
  if (py?.action === 'run') {
    let done = false;
    for (const argv of py.attempts) {
      const t0 = Date.now();
      const r = await run(argv, worktree, env, timeoutMs);
      if (r.ok) {
        lines.push(`Python environment: \`${argv.join(' ')}\` in ${seconds(t0)}`);
        done = true;
        break;
      }
      lines.push(`\`${argv.join(' ')}\` failed (${r.tail})`);
    }
    if (!done) lines.push(`no Python environment was made: every ${py.tool} command failed`);
  } else if (py?.action === 'venv') {
    lines.push(...(await makeVenv(repoRoot, worktree, py.requirements, env, timeoutMs)));
  }
  return lines;
}

async function writeMarker(dir: string, marker: Marker): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, NODE_MODULES_MARKER), `${JSON.stringify(marker)}\n`);
}

/** A venv of the worktree's own, with the checkout venv's Python, and the requirements installed. */
async function makeVenv(
  repoRoot: string,
  worktree: string,
  requirements: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<string[]> {
  const t0 = Date.now();
  const rootPython = join(repoRoot, '.venv', 'bin', 'python');
  const python = existsSync(rootPython) ? rootPython : 'python3';
  const text = await readFile(join(worktree, requirements), 'utf8').catch(() => '');
  const wanted = text.split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  // Like the checkout's: without pip only when it has none and nothing is to be installed.
  const bare = !wanted && !existsSync(join(repoRoot, '.venv', 'bin', 'pip'));
  const argv = [python, '-m', 'venv', ...(bare ? ['--without-pip'] : []), join(worktree, '.venv')];
  const made = await run(argv, worktree, env, timeoutMs);
  if (!made.ok) return [`no Python environment was made: \`${python} -m venv .venv\` failed (${made.tail})`];
  if (!wanted) return [`.venv: made with ${python} in ${seconds(t0)} (${requirements} lists nothing)`];
  const pip = [
    join(worktree, '.venv', 'bin', 'python'),
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    '-r',
    requirements,
  ];
  const r = await run(pip, worktree, env, timeoutMs);
  return r.ok
    ? [`.venv: made and ${requirements} installed in ${seconds(t0)}`]
    : [`.venv: made, but \`pip install -r ${requirements}\` failed (${r.tail})`];
}

/**
 * After a worktree moved to another commit (the integration worktree follows staging): a copy or
 * install of an earlier bootstrap is replaced when the lockfiles changed (an approved dependency),
 * and kept, at the cost of a hash, when not. Python environments stay as bootstrapped.
 */
export async function refreshWorktreeDeps(
  repoRoot: string,
  worktree: string,
  config: Config,
  env: Record<string, string>,
  siblings?: readonly string[],
): Promise<string[]> {
  const mode = config.worktree.install;
  if (mode !== 'auto' && mode !== 'install') return [];
  return installWorktreeDeps(repoRoot, worktree, config, env, () => Promise.resolve(), {
    python: false,
    ...(siblings ? { siblings } : {}),
  });
}

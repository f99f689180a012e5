import { readFile, realpath, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { OrchError, isOrchError } from '@orch/core';
import { assertNotOption, runGit, splitNul, type GitOptions, type GitResult } from './exec.js';
import { withRepoLock } from './lock.js';
import { parseWorktreeList } from './worktree-list.js';

export interface TreeEntry {
  mode: string;
  type: 'blob' | 'tree' | 'commit';
  object: string;
  path: string;
}

async function real(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    return resolve(p);
  }
}

/** An object id, alone or peeled to its commit or tree: what it names never changes. */
const FIXED_REVISION = /^[0-9a-f]{40}(?:[0-9a-f]{24})?(?:\^\{(?:commit|tree)\})?$/;

/** One repository, addressed through its main worktree; every linked worktree opens to the same Repo. */
export class Repo {
  /**
   * Answers that cannot change, by question: what an object id peels to, whether one commit is an
   * ancestor of another, their merge-base. A supervisor asks these dozens of times per task, and
   * each git process costs it a fork of its own (large) address space.
   */
  private readonly fixed = new Map<string, string | boolean | null>();

  private constructor(
    /** Main worktree root (absolute, real path). */
    readonly root: string,
    /** The common git directory shared by every worktree (absolute). */
    readonly commonDir: string,
  ) {}

  /** Opens the repository containing `cwd` (a main or linked worktree, or a subdirectory of one). */
  static async open(cwd: string): Promise<Repo> {
    const r = await runGit(['rev-parse', '--path-format=absolute', '--git-common-dir'], {
      cwd,
      reject: false,
    }).catch((e: unknown) => {
      if (isOrchError(e, 'ERR_ORCH_GIT_NOT_FOUND')) throw e;
      return { exitCode: 128, stdout: '', stderr: String(e) } satisfies GitResult;
    });
    if (r.exitCode !== 0) {
      throw new OrchError('ERR_ORCH_NOT_A_REPO', `${cwd} is not inside a git repository`, {
        hint: 'Run orch from a git repository (git init, then commit once).',
      });
    }
    const commonDir = await real(r.stdout.trim());
    const list = await runGit(['worktree', 'list', '--porcelain', '-z'], { cwd });
    const main = parseWorktreeList(list.stdout)[0];
    if (!main || main.bare) {
      throw new OrchError('ERR_ORCH_NOT_A_REPO', `${cwd} belongs to a bare repository (${commonDir})`, {
        hint: 'orch needs a repository with a working tree; clone it without --bare.',
      });
    }
    return new Repo(await real(main.path), commonDir);
  }

  /** Runs git in the main worktree (or `opts.cwd`). */
  git(args: string[], opts: GitOptions = {}): Promise<GitResult> {
    return runGit(args, { ...opts, cwd: opts.cwd ?? this.root });
  }

  async revParse(ref: string): Promise<string> {
    const oid = await this.tryRevParse(ref);
    if (oid === null) {
      throw new OrchError('ERR_ORCH_REF_NOT_FOUND', `${ref} does not name an object in ${this.root}`);
    }
    return oid;
  }

  async tryRevParse(ref: string): Promise<string | null> {
    assertNotOption(ref, 'revision');
    const fixed = FIXED_REVISION.test(ref);
    const known = fixed ? this.fixed.get(`rev ${ref}`) : undefined;
    if (typeof known === 'string') return known;
    const r = await this.git(['rev-parse', '--verify', '--quiet', ref], { reject: false });
    if (r.exitCode !== 0) return null; // (an object missing now may be fetched later: not kept)
    const oid = r.stdout.trim();
    if (fixed) this.fixed.set(`rev ${ref}`, oid);
    return oid;
  }

  /** True when `a` is `b` or an ancestor of it. */
  async isAncestor(a: string, b: string): Promise<boolean> {
    const [ca, cb] = [await this.revParse(`${a}^{commit}`), await this.revParse(`${b}^{commit}`)];
    const key = `ancestor ${ca} ${cb}`;
    const known = this.fixed.get(key);
    if (typeof known === 'boolean') return known;
    const r = await this.git(['merge-base', '--is-ancestor', ca, cb], { reject: false });
    if (r.exitCode === 0 || r.exitCode === 1) this.fixed.set(key, r.exitCode === 0);
    if (r.exitCode === 0) return true;
    if (r.exitCode === 1) return false;
    throw new OrchError(
      'ERR_ORCH_GIT_FAILED',
      `merge-base --is-ancestor ${a} ${b} failed: ${r.stderr.trim()}`,
    );
  }

  /** The best common ancestor, or null for unrelated histories. */
  async mergeBase(a: string, b: string): Promise<string | null> {
    const [ca, cb] = [await this.revParse(`${a}^{commit}`), await this.revParse(`${b}^{commit}`)];
    const key = `base ${ca} ${cb}`;
    const known = this.fixed.get(key);
    if (known !== undefined) return known as string | null;
    const r = await this.git(['merge-base', ca, cb], { reject: false });
    if (r.exitCode === 0 || r.exitCode === 1) this.fixed.set(key, r.exitCode === 0 ? r.stdout.trim() : null);
    if (r.exitCode === 0) return r.stdout.trim();
    if (r.exitCode === 1) return null;
    throw new OrchError('ERR_ORCH_GIT_FAILED', `merge-base ${a} ${b} failed: ${r.stderr.trim()}`);
  }

  async branchExists(name: string): Promise<boolean> {
    const r = await this.git(['show-ref', '--verify', '--quiet', `refs/heads/${name}`], { reject: false });
    return r.exitCode === 0;
  }

  /** Validates a branch name with git's own rules. */
  async assertBranchName(name: string): Promise<void> {
    const r = await this.git(['check-ref-format', '--branch', name], { reject: false });
    if (name.startsWith('-') || r.exitCode !== 0) {
      throw new OrchError('ERR_ORCH_INVALID_BRANCH', `invalid branch name: ${JSON.stringify(name)}`, {
        hint: 'Use letters, digits, "-", "_", "/" and "." (see git check-ref-format).',
      });
    }
  }

  /** Creates `name` at `commit`; fails when it already exists (update-ref with an empty old value). */
  async createBranch(name: string, commit: string): Promise<void> {
    await this.assertBranchName(name);
    const oid = await this.revParse(`${commit}^{commit}`);
    await withRepoLock(this, async () => {
      const r = await this.git(['update-ref', '-m', 'orch: create branch', `refs/heads/${name}`, oid, ''], {
        reject: false,
      });
      if (r.exitCode !== 0) {
        if (await this.branchExists(name)) {
          throw new OrchError('ERR_ORCH_BRANCH_EXISTS', `branch ${name} already exists`, {
            hint: 'Pick another name, or delete or archive the old branch first.',
          });
        }
        throw new OrchError('ERR_ORCH_GIT_FAILED', `could not create branch ${name}: ${r.stderr.trim()}`);
      }
    });
  }

  /** Deletes a branch; false when it did not exist. Without `force`, git refuses unmerged branches. */
  async deleteBranch(name: string, opts: { force?: boolean } = {}): Promise<boolean> {
    assertNotOption(name, 'branch');
    return withRepoLock(this, async () => {
      if (!(await this.branchExists(name))) return false;
      await this.git(['branch', opts.force ? '-D' : '-d', name]);
      return true;
    });
  }

  async renameBranch(from: string, to: string): Promise<void> {
    assertNotOption(from, 'branch');
    await this.assertBranchName(to);
    await withRepoLock(this, async () => {
      await this.git(['branch', '-m', from, to]);
    });
  }

  /** Local branches whose name starts with `prefix` (plain string prefix, not a glob). */
  async listBranches(prefix = ''): Promise<{ name: string; commit: string }[]> {
    const r = await this.git(['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads/']);
    const out: { name: string; commit: string }[] = [];
    for (const line of r.stdout.split('\n')) {
      const sp = line.indexOf(' ');
      if (sp < 0) continue;
      const name = line.slice(sp + 1).replace(/^refs\/heads\//, '');
      if (name.startsWith(prefix)) out.push({ name, commit: line.slice(0, sp) });
    }
    return out;
  }

  /** The branch checked out in `cwd` (default: the main worktree), or null when HEAD is detached. */
  async currentBranch(cwd?: string): Promise<string | null> {
    const r = await this.git(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd, reject: false });
    return r.exitCode === 0 ? r.stdout.trim() : null;
  }

  /** Short branch name → path of the worktree that has it checked out. */
  async checkedOutBranches(): Promise<Map<string, string>> {
    const r = await this.git(['worktree', 'list', '--porcelain', '-z']);
    const map = new Map<string, string>();
    for (const wt of parseWorktreeList(r.stdout)) if (wt.branch) map.set(wt.branch, wt.path);
    return map;
  }

  /**
   * `git status --porcelain=v1` entries ("XY path"; renames give the new path), untracked files listed
   * one by one. Ignored files are not included.
   */
  async statusPorcelain(cwd: string): Promise<string[]> {
    const r = await this.git(['status', '--porcelain=v1', '-z', '--untracked-files=all'], {
      cwd,
      env: { GIT_OPTIONAL_LOCKS: '0' },
    });
    const parts = splitNul(r.stdout);
    const out: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const entry = parts[i]!;
      out.push(entry);
      if (entry[0] === 'R' || entry[0] === 'C') i++; // the next record is the original path
    }
    return out;
  }

  async isClean(cwd: string): Promise<boolean> {
    return (await this.statusPorcelain(cwd)).length === 0;
  }

  /** Adds patterns to `<commonDir>/info/exclude` (shared by every worktree), each once. */
  async ensureExcluded(patterns: string[]): Promise<void> {
    for (const p of patterns) {
      if (p.includes('\n') || p.includes('\r') || p.trim() === '') {
        throw new OrchError('ERR_ORCH_INVALID_PATTERN', `invalid exclude pattern: ${JSON.stringify(p)}`);
      }
    }
    const file = join(this.commonDir, 'info', 'exclude');
    await withRepoLock(this, async () => {
      const current = await readFile(file, 'utf8').catch(() => '');
      const have = new Set(current.split(/\r?\n/));
      const missing = [...new Set(patterns)].filter((p) => !have.has(p));
      if (missing.length === 0) return;
      const sep = current === '' || current.endsWith('\n') ? '' : '\n';
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, `${current}${sep}${missing.join('\n')}\n`);
    });
  }

  /** A file's content at a commit, or null when the path does not exist there. */
  async readFileAt(commit: string, path: string): Promise<string | null> {
    const c = await this.revParse(`${commit}^{commit}`);
    const r = await this.git(['cat-file', 'blob', `${c}:${path}`], { reject: false, keepFinalNewline: true });
    return r.exitCode === 0 ? r.stdout : null;
  }

  /** Every entry of a commit's tree, recursively. */
  async lsTree(commit: string): Promise<TreeEntry[]> {
    const c = await this.revParse(`${commit}^{commit}`);
    const r = await this.git(['ls-tree', '-r', '-z', '--full-tree', c]);
    return splitNul(r.stdout).map((rec) => {
      const tab = rec.indexOf('\t');
      const [mode, type, object] = rec.slice(0, tab).split(' ') as [string, TreeEntry['type'], string];
      return { mode, type, object, path: rec.slice(tab + 1) };
    });
  }
}

import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { appendFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TempRepo {
  root: string;
  git: (...args: string[]) => Promise<string>;
  write: (path: string, content: string) => Promise<void>;
  commitAll: (message: string) => Promise<string>;
  cleanup: () => Promise<void>;
}

/**
 * What `git config` would write for a test repository, written at once: five `git config` processes
 * per repository were a large part of the fast tests' process spawns. Background gc is off (it races
 * cleanup).
 */
const TEST_CONFIG =
  '[user]\n\tname = orch test\n\temail = test@orch.invalid\n[commit]\n\tgpgsign = false\n' +
  '[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n';

/**
 * `git <args>` in `cwd`: its output without the final newline; rejects with git's stderr on a
 * non-zero exit. Node's own execFile, not execa: the fixtures run thousands of git commands, and
 * execa's per-process overhead in the test worker was about as much as the child's own start.
 */
function gitIn(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error)
          reject(
            Object.assign(new Error(`git ${args.join(' ')} (in ${cwd}) failed: ${stderr || error.message}`), {
              exitCode: error.code,
              stdout,
              stderr,
            }),
          );
        else resolve(stdout.replace(/\r?\n$/, ''));
      },
    );
    child.stdin?.end();
  });
}

/** The repository's handle on a folder that already is one (made by `tempRepo` or copied). */
function handle(root: string): TempRepo {
  const git = (...args: string[]): Promise<string> => gitIn(root, args);
  const write = async (path: string, content: string): Promise<void> => {
    const full = join(root, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
  };
  const commitAll = async (message: string): Promise<string> => {
    await git('add', '-A');
    await git('commit', '-q', '--allow-empty', '-m', message);
    return (await headCommit(root)) ?? git('rev-parse', 'HEAD');
  };
  return { root, git, write, commitAll, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** HEAD's commit read from the files of `root/.git` (no process); undefined when the ref is packed. */
async function headCommit(root: string): Promise<string | undefined> {
  const gitDir = join(root, '.git');
  const head = (await readFile(join(gitDir, 'HEAD'), 'utf8')).trim();
  if (!head.startsWith('ref: ')) return head;
  const ref = await readFile(join(gitDir, head.slice('ref: '.length)), 'utf8').catch(() => undefined);
  return ref?.trim();
}

/** A fresh git repository on branch `main` with one commit. */
export async function tempRepo(
  files: Record<string, string> = { 'README.md': '# test\n' },
): Promise<TempRepo> {
  const root = await mkdtemp(join(tmpdir(), 'orch-test-'));
  const repo = handle(root);
  await repo.git('init', '-q', '-b', 'main');
  await appendFile(join(root, '.git', 'config'), TEST_CONFIG);
  for (const [p, c] of Object.entries(files)) await repo.write(p, c);
  await repo.commitAll('initial');
  return repo;
}

/** The built templates of this process, removed when it exits. */
const templates: string[] = [];
process.once('exit', () => {
  for (const dir of templates) rmSync(dir, { recursive: true, force: true });
});

/**
 * A repository built once, on first use, by `build` (on a `tempRepo` of `files`) and copied for
 * each caller: a test that needs branches and commits before it starts gets them without the git
 * processes that made them. The copy's index is refreshed, so it is what the built one was (copied
 * files have new inodes and times). `build` must leave no worktree (their links hold absolute paths).
 */
export function repoTemplate(
  build: (repo: TempRepo) => Promise<void>,
  files?: Record<string, string>,
): () => Promise<TempRepo> {
  let template: Promise<TempRepo> | undefined;
  return async () => {
    template ??= tempRepo(files).then(async (t) => {
      templates.push(t.root);
      await build(t);
      return t;
    });
    const source = await template;
    const root = await mkdtemp(join(tmpdir(), 'orch-test-'));
    await cp(source.root, root, { recursive: true, preserveTimestamps: true });
    const repo = handle(root);
    await repo.git('update-index', '-q', '--refresh');
    return repo;
  };
}

/**
 * orch config for a test whose workers must run without the OS sandbox: the attacks orch has to stop
 * on macOS too, and scripts that share files under the test's /tmp.
 */
export const NO_SANDBOX_CONFIG = 'workers:\n  sandbox: "off"\n';

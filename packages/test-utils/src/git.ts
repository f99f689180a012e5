import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

export interface TempRepo {
  root: string;
  git: (...args: string[]) => Promise<string>;
  write: (path: string, content: string) => Promise<void>;
  commitAll: (message: string) => Promise<string>;
  cleanup: () => Promise<void>;
}

/** A fresh git repository on branch `main` with one commit; background gc is off (it races cleanup). */
export async function tempRepo(
  files: Record<string, string> = { 'README.md': '# test\n' },
): Promise<TempRepo> {
  const root = await mkdtemp(join(tmpdir(), 'orch-test-'));
  const git = async (...args: string[]): Promise<string> => (await execa('git', args, { cwd: root })).stdout;
  await git('init', '-q', '-b', 'main');
  await git('config', 'user.name', 'orch test');
  await git('config', 'user.email', 'test@orch.invalid');
  await git('config', 'commit.gpgsign', 'false');
  await git('config', 'gc.auto', '0');
  await git('config', 'maintenance.auto', 'false');
  const write = async (path: string, content: string): Promise<void> => {
    const full = join(root, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
  };
  const commitAll = async (message: string): Promise<string> => {
    await git('add', '-A');
    await git('commit', '-q', '--allow-empty', '-m', message);
    return git('rev-parse', 'HEAD');
  };
  for (const [p, c] of Object.entries(files)) await write(p, c);
  await commitAll('initial');
  return { root, git, write, commitAll, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/**
 * orch config for a test whose workers must run without the OS sandbox: the attacks orch has to stop
 * on macOS too, and scripts that share files under the test's /tmp.
 */
export const NO_SANDBOX_CONFIG = 'workers:\n  sandbox: "off"\n';

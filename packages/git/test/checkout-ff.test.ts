import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { exactExcludePattern, fastForwardObstacles } from '../src/checkout-ff.js';
import { fastForwardCheckout } from '../src/merge.js';
import { Repo } from '../src/repo.js';

let repos: TempRepo[] = [];
afterEach(async () => {
  await Promise.all(repos.map((r) => r.cleanup()));
  repos = [];
});

/** main checked out at the root; `next` adds new files and changes README.md, without a checkout. */
async function setup(
  files: Record<string, string>,
): Promise<{ t: TempRepo; repo: Repo; base: string; next: string }> {
  const t = await tempRepo({ 'README.md': '# r\n', '.gitignore': 'ignored.txt\n' });
  repos.push(t);
  const repo = await Repo.open(t.root);
  const base = await repo.revParse('HEAD');
  const env = { ...process.env, GIT_INDEX_FILE: join(t.root, '.git', 'next-index') };
  const { execa } = await import('execa');
  await execa('git', ['read-tree', base], { cwd: t.root, env });
  for (const [path, content] of Object.entries({ ...files, 'README.md': '# r\nnext\n' })) {
    const blob = (await execa('git', ['hash-object', '-w', '--stdin'], { cwd: t.root, input: content }))
      .stdout;
    await execa('git', ['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`], {
      cwd: t.root,
      env,
    });
  }
  const tree = (await execa('git', ['write-tree'], { cwd: t.root, env })).stdout;
  const next = (await execa('git', ['commit-tree', tree, '-p', base, '-m', 'next'], { cwd: t.root })).stdout;
  return { t, repo, base, next };
}

describe('fastForwardObstacles', () => {
  it('tells untracked files that hold exactly the new bytes from the user’s own files and edits', async () => {
    const { t, repo, base, next } = await setup({
      'contracts/a [1] *.ts': 'export {};\n',
      'plan notes [1].md': 'same\n',
      'mine.txt': 'theirs\n',
      'ignored.txt': 'theirs\n',
      'exec.sh': 'echo\n',
    });
    await t.write('contracts/a [1] *.ts', 'export {};\n');
    await t.write('plan notes [1].md', 'same\n');
    await t.write('mine.txt', 'mine\n');
    await t.write('ignored.txt', 'mine\n');
    await t.write('exec.sh', 'echo\n');
    await chmod(join(t.root, 'exec.sh'), 0o755); // same bytes, other mode
    await t.write('unrelated.txt', 'untracked, not in the way\n');
    const o = await fastForwardObstacles(repo, t.root, base, next);
    expect(o.dirty).toEqual([]);
    expect(o.identical.sort()).toEqual(['contracts/a [1] *.ts', 'plan notes [1].md']);
    expect(o.different.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: 'exec.sh', ignored: false },
      { path: 'ignored.txt', ignored: true },
      { path: 'mine.txt', ignored: false },
    ]);
    await writeFile(join(t.root, 'README.md'), '# r\nmy edit\n');
    const again = await fastForwardObstacles(repo, t.root, base, next);
    expect(again.dirty).toEqual(['README.md']);
    expect(again.overlapping).toEqual(['README.md']);
  });

  it('fast-forwards over identical untracked files only, leaving their bytes and every other file alone', async () => {
    const { t, repo, base, next } = await setup({
      'contracts/a [1] *.ts': 'export {};\n',
      'other.txt': 'new\n',
    });
    await mkdir(join(t.root, 'contracts'));
    await t.write('contracts/a [1] *.ts', 'export {};\n');
    await t.write('other.txt', 'mine\n');
    // Without the identical file named, git refuses; with only it named, git still refuses other.txt.
    await expect(fastForwardCheckout(t.root, next)).rejects.toThrow(/untracked working tree files/);
    await expect(
      fastForwardCheckout(t.root, next, { overwriteIdentical: ['contracts/a [1] *.ts'] }),
    ).rejects.toThrow(/other\.txt/);
    expect(await readFile(join(t.root, 'other.txt'), 'utf8')).toBe('mine\n');
    expect(await repo.revParse('HEAD')).toBe(base);
    await t.write('other.txt', 'new\n');
    await fastForwardCheckout(t.root, next, { overwriteIdentical: ['contracts/a [1] *.ts', 'other.txt'] });
    expect(await repo.revParse('HEAD')).toBe(next);
    expect(await readFile(join(t.root, 'contracts/a [1] *.ts'), 'utf8')).toBe('export {};\n');
    expect(await repo.isClean(t.root)).toBe(true);
  });

  it('escapes gitignore wildcards so a pattern names one path', () => {
    expect(exactExcludePattern('a*b?/[x] !#.md')).toBe('/a\\*b\\?/\\[x\\]\\ \\!\\#.md');
  });
});

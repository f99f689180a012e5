import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Repo, addWorktree, listWorktrees, removeWorktree } from '../src/index.js';
import { tempRepo, type TempRepo } from '@orch/test-utils';

let repos: TempRepo[] = [];
afterEach(async () => {
  for (const r of repos) await r.cleanup();
  repos = [];
});

/** Waits for what a background process does (not a timing assertion). */
async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

describe('removeWorktree with deleteLater', () => {
  it('returns once git forgot the worktree and its place is free; its files go in the background', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 50; i++) files[`src/f${i}.txt`] = `file ${i}\n`;
    const repo = await tempRepo(files);
    repos.push(repo);
    const git = await Repo.open(repo.root);
    const path = join(repo.root, '.worktrees', 'w');
    await addWorktree(git, { path, branch: 'w', commit: 'HEAD' });
    expect(await removeWorktree(git, path, { force: true, deleteLater: true })).toBe(true);
    expect(existsSync(path)).toBe(false);
    expect((await listWorktrees(git)).map((w) => w.path)).not.toContain(path);
    // The same place can be used again at once.
    await addWorktree(git, { path, branch: 'w2', commit: 'HEAD' });
    expect(existsSync(join(path, 'src', 'f0.txt'))).toBe(true);
    const trash = join(git.commonDir, 'orch-trash');
    await until('the trash is emptied', async () => (await readdir(trash).catch(() => [])).length === 0);
  });
});

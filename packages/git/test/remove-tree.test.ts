import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeTree } from '../src/remove-tree.js';

describe('removeTree', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('deletes a directory tree and leaves its siblings alone', async () => {
    dir = await mkdtemp(join(tmpdir(), 'orch-rmtree-'));
    const tree = join(dir, '-looks-like-an-option');
    for (let i = 0; i < 20; i++) {
      await mkdir(join(tree, `d${i}`, 'deep'), { recursive: true });
      await writeFile(join(tree, `d${i}`, 'deep', 'f.txt'), 'x');
    }
    await writeFile(join(dir, 'sibling.txt'), 'kept');
    await removeTree(tree);
    expect(existsSync(tree)).toBe(false);
    expect(await readdir(dir)).toEqual(['sibling.txt']);
  });

  it('is a no-op for a path that does not exist', async () => {
    dir = await mkdtemp(join(tmpdir(), 'orch-rmtree-'));
    await expect(removeTree(join(dir, 'missing'))).resolves.toBeUndefined();
  });
});

/**
 * The environment hash: one digest over every lockfile of the repository (nested packages
 * included). Each file is framed by its path and byte length, so moving bytes between files or
 * renaming one always changes the hash. `no-lock` when there is no lockfile.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeRepoPath } from '../glob/paths.js';
import { isLockfile } from './lockfiles.js';

export const NO_LOCK = 'no-lock';

/**
 * Hashes the lockfiles among `relPaths` (other paths are ignored; missing files are skipped, as a
 * tracked file deleted from the working tree is not part of the environment).
 * The hash is the first 16 hex digits of SHA-256 over `path NUL length NUL bytes` per file, sorted.
 */
export async function envHashFromFiles(
  root: string,
  relPaths: readonly string[],
): Promise<{ hash: string; lockfiles: string[] }> {
  const candidates = [...new Set(relPaths.filter(isLockfile).map((p) => normalizeRepoPath(p)))].sort();
  const h = createHash('sha256');
  const lockfiles: string[] = [];
  for (const rel of candidates) {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(root, rel));
    } catch {
      continue;
    }
    h.update(`${rel}\0${bytes.length}\0`);
    h.update(bytes);
    lockfiles.push(rel);
  }
  return { hash: lockfiles.length === 0 ? NO_LOCK : h.digest('hex').slice(0, 16), lockfiles };
}

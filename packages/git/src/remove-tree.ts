/**
 * Deleting a big directory tree (a removed worktree's files) in a child `rm -rf` instead of with
 * `fs.rm`: Node's recursive removal works on every entry of a directory at once, in this process,
 * so a supervisor that deletes a few 5,000-file worktrees at a time holds hundreds of thousands
 * of pending file operations, stat results and paths for it, and its peak memory shows it.
 */
import { execFile, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';

/** Removes `path` and everything under it; nothing when it does not exist. */
export async function removeTree(path: string): Promise<void> {
  if (process.platform !== 'win32') {
    const ok = await new Promise<boolean>((done) => {
      execFile('rm', ['-rf', '--', path], { timeout: 600_000 }, (err) => done(err === null));
    });
    if (ok) return;
  }
  // Elsewhere, or when `rm` failed: fs.rm, which throws the error that stopped it.
  await rm(path, { recursive: true, force: true });
}

/**
 * Starts deleting `path` and returns at once: a detached `rm -rf` that may outlive this process
 * (a run's last clean-up, which nobody should wait for). What a crash leaves is in orch's trash,
 * which `pruneWorktrees` empties.
 */
export function removeTreeLater(path: string): void {
  if (process.platform !== 'win32') {
    try {
      const child = spawn('rm', ['-rf', '--', path], { detached: true, stdio: 'ignore' });
      child.on('error', () => void rm(path, { recursive: true, force: true }).catch(() => undefined));
      child.unref();
      return;
    } catch {
      // fall through to fs.rm
    }
  }
  void rm(path, { recursive: true, force: true }).catch(() => undefined);
}

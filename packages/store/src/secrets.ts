/**
 * The run's secret: 32 random bytes in `<runDir>/journal.key` (mode 0600), created once per run.
 * It signs every journal line (an HMAC the reader checks) and derives each worker attempt's token,
 * so the supervisor needs no other secret store and a resumed supervisor knows every token. The
 * key lives outside every task channel: an OS sandbox hides it from workers.
 */
import { randomBytes } from 'node:crypto';
import { macHex } from '@orch/core';
import { mkdir, open, readFile } from 'node:fs/promises';
import { runDirPaths } from './paths.js';

const KEY_BYTES = 32;

/** The run's key, or undefined when the run has none yet. */
export async function readRunKey(runDir: string): Promise<Buffer | undefined> {
  try {
    const text = (await readFile(runDirPaths(runDir).key, 'utf8')).trim();
    const key = Buffer.from(text, 'hex');
    return key.length === KEY_BYTES ? key : undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') return undefined;
    throw e;
  }
}

/** The run's key, created (exclusively, 0600) by the first writer of the run. */
export async function ensureRunKey(runDir: string): Promise<Buffer> {
  const existing = await readRunKey(runDir);
  if (existing) return existing;
  await mkdir(runDir, { recursive: true });
  try {
    const fh = await open(runDirPaths(runDir).key, 'wx', 0o600);
    try {
      await fh.writeFile(`${randomBytes(KEY_BYTES).toString('hex')}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    // Another process created it first: use theirs.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const key = await readRunKey(runDir);
  if (!key) throw new Error(`the run key ${runDirPaths(runDir).key} is unreadable`);
  return key;
}

/** The secret of one worker attempt, handed to its agent as ORCH_TASK_TOKEN. */
export function taskToken(key: Buffer, task: string, attempt: number): string {
  return macHex(key, `orch-task-token\0${task}\0${attempt}`);
}

/** The token of the user's own reports (only readable with the run's key). */
export function userToken(key: Buffer): string {
  return macHex(key, 'orch-user-token');
}

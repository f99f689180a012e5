/** Writes that readers never see half-done: a temporary file in the same folder, fsync, rename. */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { OrchError, traced } from '@orch/core';

export interface AtomicWriteOptions {
  /** fsync before the rename (default true); off only for data that is cheap to lose. */
  fsync?: boolean;
  /** The file's mode (default 0644); 0600 for secrets. */
  mode?: number;
}

export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', opts.mode ?? 0o644);
  try {
    await fh.writeFile(data);
    if (opts.fsync !== false) await fh.sync();
  } catch (e) {
    await fh.close().catch(traced('store.atomic.close'));
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** A new file (refused if the name is taken), written and fsynced: what a mail drop links from. */
export async function writeNewFile(path: string, data: string, mode = 0o644): Promise<void> {
  const fh = await open(path, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function writeJsonAtomic(
  path: string,
  value: unknown,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, opts);
}

/** Parsed JSON, or `undefined` when the file does not exist; a corrupt file is an OrchError. */
export async function readJsonFile<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new OrchError('ERR_ORCH_CORRUPT_FILE', `${path} is not valid JSON`, {
      hint: 'Remove or restore the file; orch rewrites it atomically and never leaves it half-written.',
      cause: e,
    });
  }
}

/**
 * Drop directories (a task channel's outbox, the run's user outbox), in the style of Maildir: an
 * item is written to `tmp/` and renamed into `new/`, so the supervisor never reads half an item.
 * The supervisor deletes an item only after journaling what it said; the sender may wait for the
 * supervisor's verdict in `ack/<id>.json`.
 */
import { randomBytes } from 'node:crypto';
import { constants, watch as fsWatch } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { OUTBOX_ITEM_MAX_BYTES, OutboxAck, OutboxItem, OrchError, traced } from '@orch/core';
import { taskChannelPaths, type DropPaths } from './paths.js';

let seq = 0;

/** Ids sort by creation time (then by order within one process), so items are taken in order. */
export function newItemId(now = Date.now()): string {
  seq = (seq + 1) % 1_000_000;
  return `${now.toString(36).padStart(9, '0')}-${String(seq).padStart(6, '0')}-${randomBytes(6).toString('hex')}`;
}

/** Writes `item` into `drop/new/` (through `tmp/`). */
export async function dropItem(drop: DropPaths, item: OutboxItem): Promise<void> {
  const parsed = OutboxItem.safeParse(item);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OrchError(
      'ERR_ORCH_INVALID_INPUT',
      `invalid report: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`,
      {
        hint: 'Check the message and its options (`--help`).',
        exitCode: 2,
      },
    );
  }
  const data = JSON.stringify(parsed.data);
  if (Buffer.byteLength(data, 'utf8') > OUTBOX_ITEM_MAX_BYTES) {
    throw new OrchError(
      'ERR_ORCH_MESSAGE_TOO_LARGE',
      `the report is larger than ${OUTBOX_ITEM_MAX_BYTES} bytes`,
      {
        hint: 'Keep it short; put long content in a file of the repository and name the file.',
        exitCode: 2,
      },
    );
  }
  await mkdir(drop.tmp, { recursive: true });
  await mkdir(drop.new, { recursive: true });
  const tmp = join(drop.tmp, `${item.id}.json`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(drop.new, `${item.id}.json`));
}

/** Names of the items waiting in `drop/new/`, oldest first. */
export async function listDropped(drop: DropPaths): Promise<string[]> {
  try {
    return (await readdir(drop.new)).filter((f) => f.endsWith('.json')).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw e;
  }
}

export type DroppedRead = { ok: true; item: OutboxItem } | { ok: false; reason: string };

/**
 * Reads one waiting item as untrusted input: a regular file (never followed through a symlink),
 * at most OUTBOX_ITEM_MAX_BYTES, valid JSON of the item schema.
 */
export async function readDropped(drop: DropPaths, name: string): Promise<DroppedRead> {
  let fh;
  try {
    fh = await open(join(drop.new, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    return { ok: false, reason: `cannot open the item (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { ok: false, reason: 'not a regular file' };
    if (st.size > OUTBOX_ITEM_MAX_BYTES)
      return { ok: false, reason: `${st.size} bytes; the limit is ${OUTBOX_ITEM_MAX_BYTES}` };
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await fh.read(buf, 0, st.size, 0);
    let raw: unknown;
    try {
      raw = JSON.parse(buf.subarray(0, bytesRead).toString('utf8'));
    } catch {
      return { ok: false, reason: 'not valid JSON' };
    }
    const parsed = OutboxItem.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return {
        ok: false,
        reason: `invalid item: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
      };
    }
    return { ok: true, item: parsed.data };
  } finally {
    await fh.close();
  }
}

export async function removeDropped(drop: DropPaths, name: string): Promise<void> {
  await rm(join(drop.new, name), { force: true });
}

/**
 * The supervisor's verdict for an item whose sender waits for one. Created exclusively (never
 * through a symlink, never over an existing file) in a folder the worker can write to.
 */
export async function writeAck(drop: DropPaths, ack: OutboxAck): Promise<void> {
  const fh = await open(join(drop.ack, `${ack.id}.json`), 'wx', 0o600);
  try {
    await fh.writeFile(JSON.stringify(ack));
  } finally {
    await fh.close();
  }
}

async function takeAck(drop: DropPaths, id: string): Promise<OutboxAck | undefined> {
  const path = join(drop.ack, `${id}.json`);
  let text: string;
  try {
    const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
  let parsed;
  try {
    parsed = OutboxAck.safeParse(JSON.parse(text));
  } catch {
    return undefined; // still being written: the next wake reads it whole
  }
  if (!parsed.success || parsed.data.id !== id) return undefined;
  await rm(path, { force: true });
  return parsed.data;
}

/** Waits (woken by fs.watch, re-checked every 250 ms) for the verdict on item `id`. */
export async function waitForAck(
  drop: DropPaths,
  id: string,
  timeoutMs: number,
): Promise<OutboxAck | undefined> {
  await mkdir(drop.ack, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let wake: (() => void) | undefined;
  const watcher = fsWatch(drop.ack, () => wake?.());
  try {
    for (;;) {
      const ack = await takeAck(drop, id);
      if (ack) return ack;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 250));
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
      wake = undefined;
    }
  } finally {
    watcher.close();
  }
}

/** Who a worker's process speaks for: from its environment (ORCH_TASK, ORCH_ATTEMPT, ORCH_TASK_TOKEN). */
export interface WorkerIdentity {
  task: string;
  attempt: number;
  token: string;
}

/** Hands one item to the supervisor through the worker's own task channel; returns its id. */
export async function dropWorkerItem(
  runDir: string,
  who: WorkerIdentity,
  body: OutboxItem['body'],
  opts: { ack?: boolean } = {},
): Promise<string> {
  const id = newItemId();
  await dropItem(taskChannelPaths(runDir, who.task).outbox, {
    v: 1,
    id,
    task: who.task,
    attempt: who.attempt,
    token: who.token,
    ...(opts.ack ? { ack: true } : {}),
    body,
  });
  return id;
}

/** A drop directory opened for the supervisor: its paths address the opened folders themselves. */
export interface PinnedDrop {
  paths: DropPaths;
  close(): Promise<void>;
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const PROC_FD = '/proc/self/fd';

/**
 * Opens a drop directory a worker can write to, so that the supervisor's reads, writes and deletes
 * stay inside it: a folder of it replaced by a symlink (to the user's project, say) is refused, and
 * one swapped afterwards changes nothing, because on Linux every later path goes through the opened
 * directory (`/proc/self/fd/<fd>`). Elsewhere (no OS sandbox, so nothing to escape) the folders are
 * checked to be plain directories. Undefined when the drop is not made of plain directories.
 */
export async function pinDrop(drop: DropPaths): Promise<PinnedDrop | undefined> {
  const opened: Awaited<ReturnType<typeof open>>[] = [];
  const close = async (): Promise<void> => {
    for (const fh of opened.splice(0)) await fh.close().catch(traced('store.outbox.close'));
  };
  const procFd = await stat(PROC_FD).then(
    (s) => s.isDirectory(),
    () => false,
  );
  try {
    await mkdir(dirname(drop.dir), { recursive: true });
    await mkdir(drop.dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    const root = await open(drop.dir, DIR_FLAGS);
    opened.push(root);
    const base = procFd ? `${PROC_FD}/${root.fd}` : drop.dir;
    const sub = async (name: string): Promise<string> => {
      // mkdir never follows a symlink in the last component (EEXIST), and the open refuses one.
      await mkdir(join(base, name)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      const fh = await open(join(base, name), DIR_FLAGS);
      opened.push(fh);
      return procFd ? `${PROC_FD}/${fh.fd}` : join(drop.dir, name);
    };
    const paths: DropPaths = {
      dir: base,
      tmp: await sub('tmp'),
      new: await sub('new'),
      ack: await sub('ack'),
    };
    return { paths, close };
  } catch {
    await close();
    return undefined;
  }
}

/**
 * The run journal `events.jsonl`: one JSON event per line, appended with O_APPEND in a single
 * write and fsync'd, so the supervisor and the user's own commands can append at once without
 * interleaving. Every line carries an HMAC (`"mac"`, keyed by the run's secret): readers skip and
 * count lines whose MAC is missing or wrong, so a line a worker appended never reaches the state.
 * Workers never write here; they report through their task channel (see the supervisor's intake).
 * A crash can leave a half-written last line; readers ignore it and `repairJournal` cuts it off.
 * The state is always derived from the events (there is no cached copy: see docs/architecture.md).
 */
import { mkdir, open, stat, truncate } from 'node:fs/promises';
import {
  OrchError,
  RunEvent,
  reduceRun,
  signLine,
  verifyLine,
  type RunEventInput,
  type RunState,
} from '@orch/core';
import { runDirPaths } from './paths.js';
import { ensureRunKey, readRunKey } from './secrets.js';

export interface JournalChunk {
  events: RunEvent[];
  /** True when the file ends in a line without its newline (a write cut short). */
  tornTail: boolean;
  /** Complete signed lines that were not valid events. */
  skipped: number;
  /** Complete lines without a valid MAC: not written by orch, ignored. */
  unsigned: number;
  /** Byte offset just after the last complete line read. */
  end: number;
  /** Size of the journal when read (smaller than `from` when it was truncated). */
  size: number;
}

/** `ev` as a run log records it: validated against the schema, `ts` filled (any run log's rule). */
export function checkedEvent(ev: RunEventInput): RunEvent {
  const parsed = RunEvent.safeParse({ ...ev, ts: ev.ts ?? new Date().toISOString() });
  if (!parsed.success) {
    throw new OrchError(
      'ERR_ORCH_INVALID_EVENT',
      `invalid ${String(ev.type)} event: ${parsed.error.message}`,
      {
        hint: 'This is a bug in the caller; the journal only accepts events of the RunEvent schema.',
      },
    );
  }
  return parsed.data;
}

/** Validates `ev`, fills `ts`, and appends it as one line. Returns the event as written. */
export async function appendEvent(runDir: string, ev: RunEventInput): Promise<RunEvent> {
  const event = checkedEvent(ev);
  const { events } = runDirPaths(runDir);
  await mkdir(runDir, { recursive: true });
  const key = await ensureRunKey(runDir);
  const line = Buffer.from(`${signLine(key, JSON.stringify(event))}\n`);
  const fh = await open(events, 'a', 0o644);
  try {
    // One write call: with O_APPEND the kernel places it at the end as a unit.
    const { bytesWritten } = await fh.write(line, 0, line.length);
    if (bytesWritten !== line.length) {
      throw new OrchError(
        'ERR_ORCH_JOURNAL_WRITE',
        `short write to ${events} (${bytesWritten}/${line.length})`,
        {
          hint: 'Check free disk space; run `orch state resume` to repair the journal.',
        },
      );
    }
    await fh.datasync();
  } finally {
    await fh.close();
  }
  return event;
}

/** Reads complete lines from byte `from` on. */
export async function readEventsFrom(runDir: string, from = 0): Promise<JournalChunk> {
  const { events: path } = runDirPaths(runDir);
  let buf: Buffer;
  let fileSize = 0;
  try {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      fileSize = size;
      const len = Math.max(0, size - from);
      buf = Buffer.alloc(len);
      let off = 0;
      while (off < len) {
        const { bytesRead } = await fh.read(buf, off, len - off, from + off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      buf = buf.subarray(0, off);
    } finally {
      await fh.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      return { events: [], tornTail: false, skipped: 0, unsigned: 0, end: from, size: 0 };
    throw e;
  }
  const key = await readRunKey(runDir);
  const lastNl = buf.lastIndexOf(0x0a);
  const complete = lastNl < 0 ? Buffer.alloc(0) : buf.subarray(0, lastNl + 1);
  const tornTail = buf.length > complete.length;
  const events: RunEvent[] = [];
  let skipped = 0;
  let unsigned = 0;
  for (const line of complete.toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    const json = verifyLine(key, line);
    if (json === undefined) {
      unsigned++;
      continue;
    }
    try {
      const parsed = RunEvent.safeParse(JSON.parse(json));
      if (parsed.success) events.push(parsed.data);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { events, tornTail, skipped, unsigned, end: from + complete.length, size: fileSize };
}

/** Every event of the run; a half-written last line is ignored (`tornTail`), never a crash. */
export async function readEvents(
  runDir: string,
): Promise<{ events: RunEvent[]; tornTail: boolean; skipped: number; unsigned: number }> {
  const { events, tornTail, skipped, unsigned } = await readEventsFrom(runDir, 0);
  return { events, tornTail, skipped, unsigned };
}

export interface RepairResult {
  /** Bytes of a half-written last line that were cut off. */
  truncatedBytes: number;
  /** Complete but invalid lines found (left in place, ignored by readers). */
  skipped: number;
  repaired: boolean;
}

/** Cuts off a torn last line and records a `repair` event; a clean journal is left untouched. */
export async function repairJournal(runDir: string): Promise<RepairResult> {
  const { events: path } = runDirPaths(runDir);
  const chunk = await readEventsFrom(runDir, 0);
  if (!chunk.tornTail) return { truncatedBytes: 0, skipped: chunk.skipped, repaired: false };
  const size = (await stat(path)).size;
  await truncate(path, chunk.end);
  const truncatedBytes = size - chunk.end;
  await appendEvent(runDir, {
    type: 'repair',
    what: `cut a half-written last journal line (${truncatedBytes} bytes)`,
  });
  return { truncatedBytes, skipped: chunk.skipped, repaired: true };
}

/**
 * The state and the journal offset it covers. `unsigned` counts the lines skipped for a missing or
 * wrong MAC (shown by `orch state status`).
 */
export async function loadRunStateAt(
  runDir: string,
): Promise<{ state: RunState | undefined; offset: number; unsigned: number }> {
  const chunk = await readEventsFrom(runDir, 0);
  return { state: reduceRun(chunk.events), offset: chunk.end, unsigned: chunk.unsigned };
}

/** The run's current state, or undefined when the journal has no `run.started` yet. */
export async function loadRunState(runDir: string): Promise<RunState | undefined> {
  return (await loadRunStateAt(runDir)).state;
}

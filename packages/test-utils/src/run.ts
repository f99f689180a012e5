import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyLine } from '@orch/core';

/** The id of the newest run of a repository (`.orchestrator/current`). */
export async function currentRun(root: string): Promise<string> {
  return (await readFile(join(root, '.orchestrator', 'current'), 'utf8')).trim();
}

/** A journal event, loosely typed for assertions. */
export interface JournalLine {
  type: string;
  ts: string;
  task?: string;
  [key: string]: unknown;
}

/**
 * Every event of a run's journal (the newest run by default) that orch signed, as the reducer sees
 * them; lines without a valid MAC (forgeries) are left out, and `unsignedLines` counts them.
 */
export async function runEvents(root: string, run?: string): Promise<JournalLine[]> {
  return (await readRunJournal(root, run)).events;
}

export async function readRunJournal(
  root: string,
  run?: string,
): Promise<{ events: JournalLine[]; unsignedLines: number }> {
  const dir = join(root, '.orchestrator', 'runs', run ?? (await currentRun(root)));
  const text = await readFile(join(dir, 'events.jsonl'), 'utf8');
  const keyText = await readFile(join(dir, 'journal.key'), 'utf8').catch(() => '');
  const key = keyText ? Buffer.from(keyText.trim(), 'hex') : undefined;
  const events: JournalLine[] = [];
  let unsignedLines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const json = verifyLine(key, line);
    if (json === undefined) unsignedLines++;
    else events.push(JSON.parse(json) as JournalLine);
  }
  return { events, unsignedLines };
}

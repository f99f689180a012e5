import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

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

/** Every event of a run's journal (the newest run by default). */
export async function runEvents(root: string, run?: string): Promise<JournalLine[]> {
  const id = run ?? (await currentRun(root));
  const text = await readFile(join(root, '.orchestrator', 'runs', id, 'events.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JournalLine);
}

/**
 * The tasks landed on a staging ref, oldest first, read from the `Orch-Task` trailers of its
 * first-parent history (the squash commits, or the merge commits with `merge.strategy: merge`).
 */
export async function landedTasks(root: string, ref: string): Promise<string[]> {
  const { execa } = await import('execa');
  const r = await execa(
    'git',
    ['log', '--first-parent', '--reverse', '--format=%(trailers:key=Orch-Task,valueonly)', ref],
    {
      cwd: root,
    },
  );
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendEvent } from '@orch/store';
import { RunJournal } from '../src/run/journal.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orch-journal-'));
  await appendEvent(dir, {
    type: 'run.started',
    run: 'r1',
    request: 'r',
    repoRoot: '/repo',
    planPath: 'tasks.yaml',
    base: 'main',
    baseCommit: 'a'.repeat(40),
    staging: 'orch/r1/staging',
    stagingCommit: 'a'.repeat(40),
    envHash: 'no-lock',
    maxWorkers: 2,
    tasks: [{ id: 'a', dependsOn: [], agent: 'shell' }],
  });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("the supervisor's journal and the lifecycle table", () => {
  it('refuses an illegal task event and writes nothing; a legal one goes through', async () => {
    const journal = new RunJournal(dir, join(dir, 'events.jsonl'));
    const before = await readFile(join(dir, 'events.jsonl'), 'utf8');
    const err = await journal.append({ type: 'task.reset', task: 'a', reason: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_ORCH_ILLEGAL_TRANSITION' });
    expect((err as Error).message).toContain('status pending');
    expect(await readFile(join(dir, 'events.jsonl'), 'utf8')).toBe(before);
    await journal.append({ type: 'task.ready', task: 'a' });
    expect(journal.state?.tasks['a']?.status).toBe('ready');
  });

  it('judges on what others appended meanwhile', async () => {
    const journal = new RunJournal(dir, join(dir, 'events.jsonl'));
    await journal.refresh();
    // Another process (a worker's status command, `orch deps`) appends behind the journal's back.
    await appendEvent(dir, { type: 'task.ready', task: 'a' });
    const err = await journal.append({ type: 'task.ready', task: 'a' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_ORCH_ILLEGAL_TRANSITION' });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent, loadRunState, readEvents } from '@orch/store';
import { runRepo, type RunRepo } from './task-fixture.js';

let r: RunRepo;
beforeAll(async () => {
  r = await runRepo();
});
afterAll(() => r.repo.cleanup());

describe('orch task', () => {
  it('records progress from inside a worktree, finding the run through git', async () => {
    const res = await r.orch(['task', 'progress', 'parser done'], { ORCH_TASK: 'api' }, r.worktree);
    expect(res.stderr).toBe('');
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toContain('recorded progress for task api');
    // No supervisor runs this run: the user's report goes into the journal, and the command says so.
    expect(res.stdout).toMatch(
      /no supervisor is running for run \S+: recorded, and acted on when the run is resumed/,
    );
    expect((await loadRunState(r.runDir))?.tasks.api?.lastMessage).toBe('parser done');
  });

  it('records done, fail and block with status-command evidence (--json)', async () => {
    const env = { ORCH_ROOT: r.root, ORCH_RUN: r.run };
    const done = await r.orch(['task', 'done', '--summary', 'all green', '--task', 'ui', '--json'], env, '/');
    expect(done.exitCode).toBe(0);
    const out = JSON.parse(done.stdout) as { run: string; event: Record<string, unknown> };
    expect(out.run).toBe(r.run);
    expect(out.event).toMatchObject({
      type: 'task.reported',
      task: 'ui',
      status: 'done',
      summary: 'all green',
      evidence: { source: 'status-command' },
    });
    expect((await r.orch(['task', 'fail', '--reason', 'no schema', '--task', 'db'], env)).exitCode).toBe(0);
    const block = await r.orch(['task', 'block', '--needs', 'zod@^4', '--reason', 'validation'], {
      ...env,
      ORCH_TASK: 'api',
    });
    expect(block.exitCode).toBe(0);
    const state = await loadRunState(r.runDir);
    expect(state?.tasks.db?.report).toEqual({ status: 'failed', reason: 'no schema' });
    expect(state?.tasks.api?.report).toEqual({ status: 'blocked', needs: 'zod@^4', reason: 'validation' });
  });

  it('refuses an unknown task, a missing task and an empty message clearly', async () => {
    const unknown = await r.orch(['task', 'progress', 'x'], { ORCH_TASK: 'nope' });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('ERR_ORCH_UNKNOWN_TASK');
    expect(unknown.stderr).toContain('api, ui, db');
    expect(unknown.stderr).not.toMatch(/\n\s+at /); // no stack trace

    const none = await r.orch(['task', 'progress', 'x']);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('ERR_ORCH_NO_TASK');

    const empty = await r.orch(['task', 'progress', '  '], { ORCH_TASK: 'api' });
    expect(empty.exitCode).toBe(1);
    expect(empty.stderr).toContain('ERR_ORCH_INVALID_INPUT');

    const blank = await r.orch(['task', 'done', '--summary', ' '], { ORCH_TASK: 'api' });
    expect(blank.exitCode).toBe(1);
    expect(blank.stderr).toContain('ERR_ORCH_INVALID_INPUT');
  });

  it('takes done with a positional summary, or with none at all', async () => {
    const positional = await r.orch(['task', 'done', 'users API with pagination', '--json'], {
      ORCH_TASK: 'ui',
    });
    expect(positional.exitCode, positional.stderr).toBe(0);
    expect(JSON.parse(positional.stdout)).toMatchObject({
      event: { type: 'task.reported', status: 'done', summary: 'users API with pagination' },
    });
    const bare = await r.orch(['task', 'done', '--json'], { ORCH_TASK: 'ui' });
    expect(bare.exitCode, bare.stderr).toBe(0);
    const ev = (JSON.parse(bare.stdout) as { event: Record<string, unknown> }).event;
    expect(ev).toMatchObject({ type: 'task.reported', status: 'done' });
    expect(ev).not.toHaveProperty('summary');
  });

  it('says when there is no run, and refuses reports to a finished run', async () => {
    const outside = await r.orch(['task', 'progress', 'x'], { ORCH_TASK: 'api' }, '/');
    expect(outside.exitCode).toBe(1);
    expect(outside.stderr).toContain('ERR_ORCH_NOT_A_REPO');

    const before = (await readEvents(r.runDir)).events.length;
    await appendEvent(r.runDir, { type: 'run.finished', outcome: 'aborted' });
    const res = await r.orch(['task', 'done', '--summary', 'late', '--json'], { ORCH_TASK: 'api' });
    expect(res.exitCode).toBe(1);
    expect(JSON.parse(res.stdout)).toMatchObject({ error: { code: 'ERR_ORCH_RUN_FINISHED' } });
    expect((await readEvents(r.runDir)).events.length).toBe(before + 1);
  });

  it('has help with an example for every status command', async () => {
    for (const sub of ['progress', 'done', 'fail', 'block']) {
      const h = await r.orch(['task', sub, '--help']);
      expect(h.exitCode).toBe(0);
      expect(h.stdout).toContain(`$ orch task ${sub}`);
    }
  });
});

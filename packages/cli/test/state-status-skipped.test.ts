import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent } from '@orch/store';
import { runRepo, type RunRepo } from './task-fixture.js';

let r: RunRepo;
beforeAll(async () => {
  r = await runRepo(undefined, { inProcess: true });
  // Written past the supervisor's journal (which would refuse them): the reducer skips them.
  await appendEvent(r.runDir, { type: 'task.reset', task: 'api', reason: 'a reset of a pending task' });
  await appendEvent(r.runDir, { type: 'task.unblocked', task: 'ui', reason: 'never blocked' });
});
afterAll(() => r.repo.cleanup());

describe('orch state status and events the lifecycle table refuses', () => {
  it('says how many were skipped and shows the last one; --json has them all', async () => {
    const text = (await r.orch(['state', 'status'])).stdout;
    expect(text).toContain('2 journal event(s) skipped as illegal; last: task.unblocked for ui:');
    expect(text).toMatch(/ui\s+pending/);
    const j = JSON.parse((await r.orch(['state', 'status', '--json'])).stdout) as {
      skipped: { count: number; recent: { type: string; task: string; reason: string }[] };
    };
    expect(j.skipped.count).toBe(2);
    expect(j.skipped.recent.map((x) => `${x.type} ${x.task}`)).toEqual([
      'task.reset api',
      'task.unblocked ui',
    ]);
    expect(j.skipped.recent[0]?.reason).toContain('pending');
  });
});

/**
 * The orchestrating session's `orch mcp` on a real run directory: status and waiting read the
 * journal, messages and dependency decisions go where `orch mailbox` and `orch deps` send them.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Mailbox } from '@orch/store';
import { connect, runFixture, structured, type Connected, type RunFixture } from './fixture.js';

let fx: RunFixture;
let c: Connected;
const saved = { ...process.env };

beforeEach(async () => {
  fx = await runFixture(['api', 'ui']);
  for (const k of ['ORCH_RUN', 'ORCH_TASK', 'ORCH_ATTEMPT', 'ORCH_TASK_TOKEN']) delete process.env[k];
  process.env.ORCH_ROOT = fx.root;
  c = await connect(process.env);
});
afterEach(async () => {
  await c.close();
  process.env = { ...saved };
  await fx.cleanup();
});

const started = (task: string) =>
  fx.append({
    type: 'task.started',
    task,
    attempt: 1,
    session: `s-${task}`,
    agent: 'shell',
    promptPath: 'p',
    logPath: 'l',
  });

describe('the orchestrating session tools', () => {
  it('offers the orchestration tools, not the worker ones', async () => {
    const { tools } = await c.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'context_add',
      'context_get',
      'deps_decide',
      'deps_list',
      'mailbox_check',
      'mailbox_send',
      'plan_check',
      'run_start',
      'run_status',
      'run_wait',
    ]);
    const send = tools.find((t) => t.name === 'mailbox_send');
    expect(send?.inputSchema.properties?.['type']).toMatchObject({
      enum: ['info', 'interface-changed', 'blocked-on', 'needs-decision'],
    });
  });

  it('run_status returns the phase, counts and one line per task', async () => {
    await started('api');
    await fx.append({ type: 'task.progress', task: 'api', message: 'half way' });
    const r = await c.call('run_status');
    expect(r.isError).toBeFalsy();
    expect(structured(r)).toMatchObject({
      run: fx.run,
      counts: { running: 1, pending: 1 },
      needsUser: [],
      tasks: [
        { id: 'api', status: 'running', attempt: 1, lastMessage: 'half way' },
        { id: 'ui', status: 'pending' },
      ],
    });
  });

  it('run_status names an unknown run with its code and hint', async () => {
    const r = await c.call('run_status', { run: '20990101-000000-zzzz' });
    expect(r.isError).toBe(true);
    const { error } = structured(r) as { error: { code: string; hint?: string } };
    expect(error.code).toMatch(/^ERR_ORCH_/);
    expect(error.hint).toEqual(expect.any(String));
  });

  it('run_wait returns at the timeout when nothing needs the user, and at once when something does', async () => {
    await started('api');
    expect(structured(await c.call('run_wait', { timeoutSec: 0 }))).toMatchObject({
      woke: 'timeout',
      needsUser: [],
    });
    const waiting = c.call('run_wait', { timeoutSec: 120 });
    await fx.append({ type: 'task.attention', task: 'api', reason: 'REST or GraphQL?' });
    expect(structured(await waiting)).toMatchObject({
      woke: 'needs_user',
      needsUser: [{ kind: 'needs-decision', task: 'api', detail: 'REST or GraphQL?' }],
    });
    // Still open: the next wait does not sleep through it.
    expect(structured(await c.call('run_wait', { timeoutSec: 120 }))).toMatchObject({ woke: 'needs_user' });
  });

  it('run_wait wakes for a dependency request, and deps_list shows it', async () => {
    await started('ui');
    const waiting = c.call('run_wait', { timeoutSec: 120 });
    await fx.append({ type: 'task.blocked', task: 'ui', reason: 'date parsing', needs: 'date-fns@^4' });
    expect(structured(await waiting)).toMatchObject({
      woke: 'needs_user',
      needsUser: [{ kind: 'dependency', task: 'ui', detail: 'date-fns@^4' }],
    });
    expect(structured(await c.call('deps_list'))).toMatchObject({
      run: fx.run,
      requests: [expect.objectContaining({ task: 'ui', spec: 'date-fns@^4' })],
      conflicts: [],
    });
    const noReason = await c.call('deps_decide', { decision: 'deny', task: 'ui' });
    expect(noReason.isError).toBe(true);
    expect(structured(noReason)).toMatchObject({ error: { code: 'ERR_ORCH_USAGE' } });
  });

  it('run_wait wakes when the run finishes', async () => {
    const waiting = c.call('run_wait', { timeoutSec: 120 });
    await fx.append({ type: 'run.finished', outcome: 'failed', reason: 'api failed' });
    expect(structured(await waiting)).toMatchObject({
      woke: 'needs_user',
      outcome: 'failed',
      needsUser: [{ kind: 'run-finished', detail: 'failed' }],
    });
  });

  it("mailbox_send from the user reaches the task's inbox (recorded at once: no supervisor runs)", async () => {
    await started('api');
    const r = await c.call('mailbox_send', { to: 'api', body: 'keep /users paginated' });
    expect(r.isError).toBeFalsy();
    expect(structured(r)).toMatchObject({
      run: fx.run,
      recorded: true,
      note: expect.stringMatching(/resume/),
    });
    const inbox = await new Mailbox(fx.runDir, { tasks: ['api', 'ui'] }).check('api');
    expect(inbox).toEqual([expect.objectContaining({ from: 'user', body: 'keep /users paginated' })]);
    expect(structured(await c.call('mailbox_check'))).toMatchObject({ inbox: 'supervisor', messages: [] });
  });

  it('context_add records a fact that context_get returns; a missing key is a tool error', async () => {
    const added = await c.call('context_add', { key: 'api.dates', value: { format: 'ISO 8601', tz: 'UTC' } });
    expect(structured(added)).toMatchObject({ key: 'api.dates', addedBy: 'user' });
    expect(structured(await c.call('context_get', { key: 'api.dates' }))).toMatchObject({
      entries: { 'api.dates': { value: { format: 'ISO 8601', tz: 'UTC' } } },
    });
    expect(structured(await c.call('context_get', { search: 'iso' }))).toMatchObject({
      entries: { 'api.dates': expect.any(Object) },
    });
    const missing = await c.call('context_get', { key: 'nope' });
    expect(missing.isError).toBe(true);
    expect(structured(missing)).toMatchObject({ error: { code: 'ERR_ORCH_CONTEXT_NOT_FOUND' } });
  });

  it('plan_check reports a valid plan and an invalid one in the same shape', async () => {
    await writeFile(
      join(fx.root, 'tasks.yaml'),
      [
        'request: one file',
        'tasks:',
        '  - id: alpha',
        '    description: write a.txt',
        '    agent: shell',
        '    files_write: [a.txt]',
        '    run: echo a > a.txt',
        '    verification: [{ command: test -s a.txt, type: check }]',
        '',
      ].join('\n'),
    );
    const good = structured(await c.call('plan_check'));
    expect(good).toMatchObject({ ok: true, schema: { valid: true, total_tasks: 1 } });
    await writeFile(join(fx.root, 'bad.yaml'), 'request: x\ntasks:\n  - id: Alpha Beta\n');
    const bad = await c.call('plan_check', { plan: 'bad.yaml' });
    expect(bad.isError).toBeFalsy();
    expect(structured(bad)).toMatchObject({
      ok: false,
      schema: { valid: false },
      error: { code: 'ERR_ORCH_PLAN_INVALID' },
    });
  });
});

/**
 * A worker's `orch mcp`: its tools are bound to its own task by the environment orch gives the
 * agent, and what it reports goes through the task channel to the (in-process) supervisor intake,
 * which checks the token and journals it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureRunKey, readEvents, taskChannelPaths, taskToken } from '@orch/store';
import { connect, runFixture, structured, type RunFixture } from './fixture.js';

let fx: RunFixture;
const saved = { ...process.env };

/** The variables `orch _exec` gives task `task`'s agent, in this process (the tools read them). */
async function becomeWorker(task: string, token?: string): Promise<NodeJS.ProcessEnv> {
  const real = taskToken(await ensureRunKey(fx.runDir), task, 1);
  // The attempt's spec holds its token, as launch writes it.
  await mkdir(taskChannelPaths(fx.runDir, task).dir, { recursive: true });
  await writeFile(taskChannelPaths(fx.runDir, task).spec(1), JSON.stringify({ token: real }));
  Object.assign(process.env, {
    ORCH_ROOT: fx.root,
    ORCH_RUN: fx.run,
    ORCH_TASK: task,
    ORCH_ATTEMPT: '1',
    ORCH_TASK_TOKEN: token ?? real,
  });
  return process.env;
}

beforeEach(async () => {
  fx = await runFixture(['api', 'ui']);
  for (const task of ['api', 'ui'])
    await fx.append({
      type: 'task.started',
      task,
      attempt: 1,
      session: `s-${task}`,
      agent: 'claude',
      promptPath: 'p',
      logPath: 'l',
    });
});
afterEach(async () => {
  process.env = { ...saved };
  await fx.cleanup();
});

describe('the worker tools', () => {
  it("offers only the worker's tools, each with a typed input schema", async () => {
    const c = await connect(await becomeWorker('api'));
    const { tools } = await c.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'mailbox_check',
      'mailbox_send',
      'task_block',
      'task_done',
      'task_fail',
      'task_progress',
    ]);
    const block = tools.find((t) => t.name === 'task_block');
    expect(block?.inputSchema).toMatchObject({
      type: 'object',
      properties: { needs: { type: 'string' }, reason: { type: 'string' } },
      required: ['needs', 'reason'],
    });
    await c.close();
  });

  it('task_done hands the report to the supervisor, which journals it for the own task', async () => {
    await fx.startIntake();
    const c = await connect(await becomeWorker('api'));
    const r = await c.call('task_done', { summary: 'routes and tests' });
    expect(r.isError).toBeFalsy();
    expect(structured(r)).toMatchObject({ run: fx.run, task: 'api', recorded: true });
    const reported = (await readEvents(fx.runDir)).events.filter((e) => e.type === 'task.reported');
    expect(reported).toEqual([
      expect.objectContaining({ task: 'api', status: 'done', summary: 'routes and tests' }),
    ]);
    expect((await fx.state()).tasks.api?.report).toMatchObject({ status: 'done' });
    await c.close();
  });

  it("refuses a token that is not the task's with a code and a hint, and sends nothing", async () => {
    await fx.startIntake();
    const c = await connect(await becomeWorker('api', 'f'.repeat(64)));
    const r = await c.call('task_progress', { message: 'half way' });
    expect(r.isError).toBe(true);
    expect(structured(r)).toEqual({
      error: {
        code: 'ERR_ORCH_NOT_YOUR_TASK',
        message: expect.stringMatching(/not the token of task api/),
        hint: expect.stringMatching(/only for its own task/),
      },
    });
    expect((await readEvents(fx.runDir)).events.some((e) => e.type === 'task.progress')).toBe(false);
    await c.close();
  });

  it("reports a finished task's report refused by the supervisor as a tool error", async () => {
    await fx.append({ type: 'task.cancelled', task: 'api', reason: 'test' });
    await fx.startIntake();
    const c = await connect(await becomeWorker('api'));
    const r = await c.call('task_fail', { reason: 'no contract field' });
    expect(r.isError).toBe(true);
    expect(structured(r)).toMatchObject({ error: { code: 'ERR_ORCH_REPORT_REFUSED' } });
    await c.close();
  });

  it('mailbox_send delivers as the own task; the recipient reads it with mailbox_check, once', async () => {
    await fx.startIntake();
    const api = await connect(await becomeWorker('api'));
    const sent = await api.call('mailbox_send', {
      to: 'ui',
      body: 'GET /users returns {items, next}',
      type: 'interface-changed',
      target: 'contracts/users.yaml',
    });
    expect(sent.isError).toBeFalsy();
    expect(structured(sent)).toMatchObject({ recorded: true });
    await api.close();

    const ui = await connect(await becomeWorker('ui'));
    const first = structured(await ui.call('mailbox_check'));
    expect(first).toMatchObject({
      inbox: 'ui',
      messages: [
        expect.objectContaining({
          from: 'api',
          type: 'interface-changed',
          body: 'GET /users returns {items, next}',
          target: 'contracts/users.yaml',
        }),
      ],
    });
    expect(structured(await ui.call('mailbox_check'))).toMatchObject({ messages: [] });
    await ui.close();
  });

  it('asks for the target of an interface-changed message instead of sending it', async () => {
    const c = await connect(await becomeWorker('api'));
    const r = await c.call('mailbox_send', { to: 'ui', body: 'changed', type: 'interface-changed' });
    expect(r.isError).toBe(true);
    expect(structured(r)).toMatchObject({
      error: { code: 'ERR_ORCH_INVALID_MESSAGE', hint: expect.any(String) },
    });
    await c.close();
  });
});

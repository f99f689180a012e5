/**
 * The built `orch mcp` over stdio, as a client process starts it: it answers a call whose request
 * arrives together with the end of its input, and a worker's environment gives the worker tools.
 */
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orchBin } from '@orch/test-utils';
import { runFixture, type RunFixture } from './fixture.js';

let fx: RunFixture;
beforeEach(async () => {
  fx = await runFixture(['api']);
});
afterEach(async () => {
  await fx.cleanup();
});

/** Writes the JSON-RPC lines to `orch mcp`, closes its input, and returns the replies by id. */
function exchange(lines: object[], env: NodeJS.ProcessEnv): Promise<Map<number, Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [orchBin(), 'mcp'], { cwd: fx.root, env, stdio: 'pipe' });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', () => {
      const replies = new Map<number, Record<string, unknown>>();
      for (const l of out.split('\n').filter(Boolean)) {
        const msg = JSON.parse(l) as { id?: number; result?: Record<string, unknown> };
        if (typeof msg.id === 'number' && msg.result) replies.set(msg.id, msg.result);
      }
      resolve(replies);
    });
    child.stdin.end(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  });
}

const hello = [
  {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } },
  },
  { jsonrpc: '2.0', method: 'notifications/initialized' },
];

describe('orch mcp over stdio', () => {
  it('answers the last call before it exits at the end of its input', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ORCH_ROOT: fx.root };
    for (const k of ['ORCH_RUN', 'ORCH_TASK', 'ORCH_ATTEMPT', 'ORCH_TASK_TOKEN']) delete env[k];
    const replies = await exchange(
      [
        ...hello,
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'run_status', arguments: {} } },
      ],
      env,
    );
    expect(replies.get(1)).toMatchObject({ serverInfo: { name: 'orch' } });
    expect(replies.get(2)).toMatchObject({
      structuredContent: { run: fx.run, tasks: [{ id: 'api', status: 'pending' }] },
    });
  });

  it("offers a worker's environment only the worker tools", async () => {
    const env = {
      ...process.env,
      ORCH_ROOT: fx.root,
      ORCH_RUN: fx.run,
      ORCH_TASK: 'api',
      ORCH_ATTEMPT: '1',
      ORCH_TASK_TOKEN: 'x'.repeat(64),
    };
    const replies = await exchange([...hello, { jsonrpc: '2.0', id: 2, method: 'tools/list' }], env);
    const tools = (replies.get(2)?.['tools'] as { name: string }[]).map((t) => t.name).sort();
    expect(tools).toEqual([
      'mailbox_check',
      'mailbox_send',
      'task_block',
      'task_done',
      'task_fail',
      'task_progress',
    ]);
  });
});

/**
 * The tools of a worker's own server: bound to its task by the environment `orch _exec` gives the
 * agent (ORCH_TASK, ORCH_RUN, ORCH_ATTEMPT and the secret ORCH_TASK_TOKEN). Reports go through the
 * task channel's outbox like `orch task …`; the supervisor checks the token and journals them.
 */
import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { OrchError, type OutboxBody } from '@orch/core';
import { submit, submittedNote, type Submitted } from '@orch/engine';
import { Mailbox, resolveRepoRoot, runPaths } from '@orch/store';
import { mailInput, messageOf, readInbox } from './mail.js';
import { guarded } from './result.js';

const text = (what: string) => z.string().min(1).describe(what);

function reported(s: Submitted): Record<string, unknown> {
  const note = submittedNote(s);
  return {
    run: s.run,
    task: s.task ?? null,
    recorded: s.verdict !== undefined,
    ...(s.queued ? { queued: true } : {}),
    ...(s.verdict ? { detail: s.verdict.detail } : {}),
    ...(note ? { note } : {}),
  };
}

async function report(body: OutboxBody): Promise<Record<string, unknown>> {
  return reported(await submit(body, {}));
}

export function registerWorkerTools(server: McpServer, env: NodeJS.ProcessEnv): void {
  const task = env.ORCH_TASK as string;

  server.registerTool(
    'task_progress',
    {
      title: 'Report progress',
      description: `Record what task ${task} is doing now (shown to the user; kept for a restarted attempt).`,
      inputSchema: { message: text('what the worker is doing now') },
    },
    ({ message }) => guarded(() => report({ kind: 'progress', message })),
  );

  server.registerTool(
    'task_done',
    {
      title: 'Report the task done',
      description: `Report task ${task} finished (commit first); orch then verifies and merges it.`,
      inputSchema: { summary: text('what was done').optional() },
    },
    ({ summary }) =>
      guarded(() => report(summary === undefined ? { kind: 'done' } : { kind: 'done', summary })),
  );

  server.registerTool(
    'task_fail',
    {
      title: 'Report the task failed',
      description: `Report that task ${task} cannot be done, and why.`,
      inputSchema: { reason: text('why it cannot be done') },
    },
    ({ reason }) => guarded(() => report({ kind: 'fail', reason })),
  );

  server.registerTool(
    'task_block',
    {
      title: 'Report the task blocked',
      description: `Report that task ${task} needs something first (a package, say); the user decides.`,
      inputSchema: {
        needs: text('what is needed, e.g. a package spec "zod@^4"'),
        reason: text('why it is needed'),
      },
    },
    ({ needs, reason }) => guarded(() => report({ kind: 'block', needs, reason })),
  );

  server.registerTool(
    'mailbox_send',
    {
      title: 'Send a message',
      description: `Send a message from task ${task} to another task, to \`supervisor\`, or to \`all\`.`,
      inputSchema: mailInput,
    },
    (input) =>
      guarded(async () => {
        const s = await submit({ kind: 'mail', to: input.to, message: messageOf(input) }, {});
        return { ...reported(s), ...(s.verdict?.result !== undefined ? { message: s.verdict.result } : {}) };
      }),
  );

  server.registerTool(
    'mailbox_check',
    {
      title: 'Read new messages',
      description: `The unread messages of task ${task}'s inbox, oldest first; they count as read afterwards.`,
      inputSchema: {},
    },
    () =>
      guarded(async () => {
        const run = env.ORCH_RUN;
        if (!run)
          throw new OrchError('ERR_ORCH_NO_TASK', 'ORCH_RUN is not set', {
            hint: 'orch sets it in every worker.',
          });
        // Only the task channel: all an OS-sandboxed worker can see of the run.
        const dir = runPaths(await resolveRepoRoot({ env }), run).dir;
        const messages = await readInbox(new Mailbox(dir, { tasks: [task] }), task);
        return { inbox: task, messages };
      }),
  );
}

/** Who may ask for the worker tools: the four variables orch sets in every worker, all present. */
export function workerBinding(env: NodeJS.ProcessEnv): { task: string; run: string } | undefined {
  if (!env.ORCH_TASK_TOKEN) return undefined;
  const { ORCH_TASK: task, ORCH_RUN: run, ORCH_ATTEMPT: attempt } = env;
  if (!task || !run || !attempt || !/^[1-9][0-9]*$/.test(attempt)) {
    throw new OrchError(
      'ERR_ORCH_NO_TASK',
      'ORCH_TASK_TOKEN is set but ORCH_TASK, ORCH_RUN or ORCH_ATTEMPT is not',
      {
        hint: 'orch sets all four in every worker; outside a worker, unset ORCH_TASK_TOKEN.',
        exitCode: 2,
      },
    );
  }
  return { task, run };
}

/**
 * The tools of the orchestrating session (the user's Claude Code): check a plan, start a run in the
 * background, follow it, answer what it asks. Each one calls what the matching `orch` command calls.
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  MAILBOX_SUPERVISOR,
  OrchError,
  checkPlan,
  findPlanFile,
  loadConfigSource,
  loadPlan,
  type RunState,
  type SourceIssue,
} from '@orch/core';
import {
  approveDeps,
  denyDeps,
  findConflicts,
  loadRun,
  orchBinPath,
  pendingRequests,
  prepareRun,
  stagingBranch,
  startDetachedSupervisor,
  submit,
  submittedNote,
} from '@orch/engine';
import { ContextStore, Mailbox, resolveRepoRoot, watchJournal } from '@orch/store';
import { needsUser } from './attention.js';
import { mailInput, messageOf, readInbox } from './mail.js';
import { guarded } from './result.js';
import { runStatus, runSummary } from './status.js';

const runId = z.string().min(1).max(100).optional().describe('the run (default: the newest run)');
const planFile = z
  .string()
  .min(1)
  .optional()
  .describe('the plan file (default: tasks.yaml at the repository root)');

/** Longest `run_wait`: under Claude Code's default tool time limit and the prompt cache's life. */
export const WAIT_MAX_SEC = 240;

export interface OrchestratorOptions {
  cwd: string;
}

export function registerOrchestratorTools(server: McpServer, o: OrchestratorOptions): void {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(o.cwd, p));
  const repoRoot = (): Promise<string> => resolveRepoRoot({ cwd: o.cwd });
  const load = (run: string | undefined) =>
    loadRun({ where: { cwd: o.cwd, env: process.env }, ...(run ? { run } : {}) });

  server.registerTool(
    'plan_check',
    {
      title: 'Check a plan',
      description: 'Schema, dependency graph, file conflicts, risk and contracts of a plan, in one report.',
      inputSchema: { plan: planFile, config: z.string().min(1).optional().describe('config file') },
      annotations: { readOnlyHint: true },
    },
    ({ plan, config }) =>
      guarded(async () => {
        const root = await repoRoot();
        const file = findPlanFile(plan ?? 'tasks.yaml', o.cwd, root);
        const { config: cfg, warnings } = await loadConfigSource(
          root,
          config === undefined ? undefined : abs(config),
        );
        try {
          const loaded = await loadPlan(file, {
            allowUnknownDependencies: true,
            worktreeDir: cfg.orchestration.worktree_dir,
          });
          const r = await checkPlan(loaded.plan, { repoRoot: root, config: cfg, doc: loaded.doc });
          return { plan: file, ...r, config_warnings: warnings };
        } catch (e) {
          // A schema failure is a report too, in the same shape, as `orch plan check --json` gives it.
          if (!(e instanceof OrchError) || e.code !== 'ERR_ORCH_PLAN_INVALID') throw e;
          const issues = (e.details?.issues ?? []) as SourceIssue[];
          return {
            plan: file,
            ok: false,
            schema: { valid: false, total_tasks: 0, issues },
            dag: null,
            conflicts: null,
            risk: null,
            contracts: null,
            error: e.toJSON(),
          };
        }
      }),
  );

  server.registerTool(
    'run_start',
    {
      title: 'Start a run',
      description:
        'Start a run of the plan with its supervisor in the background (like `orch run --detach`); follow it with run_wait.',
      inputSchema: {
        plan: planFile,
        approve: z
          .boolean()
          .default(false)
          .describe('approve a plan whose risk needs approval (ask the user first)'),
        maxWorkers: z.number().int().positive().optional().describe('how many workers at once'),
        agent: z.string().min(1).optional().describe('agent for tasks that name none'),
        model: z.string().min(1).optional().describe('model for tasks that name none'),
        base: z.string().min(1).optional().describe('branch to build on and promote to'),
        promote: z.boolean().default(true).describe('false: leave the result on the staging branch'),
      },
    },
    (i) =>
      guarded(async () => {
        const orchBin = orchBinPath();
        const prepared = await prepareRun({
          cwd: o.cwd,
          planPath: i.plan ?? 'tasks.yaml',
          ...(i.maxWorkers ? { maxWorkers: i.maxWorkers } : {}),
          ...(i.agent ? { agent: i.agent } : {}),
          ...(i.model ? { model: i.model } : {}),
          ...(i.base ? { base: i.base } : {}),
          detach: true,
          noPromote: !i.promote,
          approve: () => Promise.resolve(i.approve),
        });
        const { session } = await startDetachedSupervisor({
          repoRoot: prepared.repoRoot,
          run: prepared.run,
          orchBin,
          noPromote: !i.promote,
        });
        return {
          run: prepared.run,
          session,
          base: prepared.base,
          staging: stagingBranch(prepared.run),
          tasks: prepared.plan.tasks.map((t) => t.id),
          warnings: prepared.warnings,
        };
      }),
  );

  server.registerTool(
    'run_status',
    {
      title: 'Run status',
      description: 'Phase, counts, cost and one line per task of a run, and what needs the user.',
      inputSchema: { run: runId },
      annotations: { readOnlyHint: true },
    },
    ({ run }) => guarded(async () => runStatus((await load(run)).state)),
  );

  server.registerTool(
    'run_wait',
    {
      title: 'Wait for a run',
      description: `Wait (at most ${WAIT_MAX_SEC} s) until the run finishes or needs the user (a question, a dependency request, an escalation); returns at once when it already does.`,
      inputSchema: {
        run: runId,
        timeoutSec: z.number().min(0).max(WAIT_MAX_SEC).default(180).describe('how long to wait at most'),
      },
      annotations: { readOnlyHint: true },
    },
    ({ run, timeoutSec }, extra) =>
      guarded(async () => {
        const loaded = await load(run);
        const state = await waitForUser(loaded.dir, loaded.state, timeoutSec * 1000, extra.signal);
        const summary = runSummary(state);
        const pending = needsUser(state);
        return { ...summary, woke: pending.length > 0 ? 'needs_user' : 'timeout' };
      }),
  );

  server.registerTool(
    'mailbox_send',
    {
      title: 'Send a message',
      description: 'Send a message from the user to a task of the run, to `supervisor`, or to `all`.',
      inputSchema: { ...mailInput, run: runId },
    },
    (input) =>
      guarded(async () => {
        const s = await submit(
          { kind: 'mail', to: input.to, message: messageOf(input) },
          { ...(input.run ? { run: input.run } : {}), from: 'user' },
        );
        const note = submittedNote(s);
        return {
          run: s.run,
          recorded: s.verdict !== undefined,
          ...(s.queued ? { queued: true } : {}),
          ...(s.verdict?.result !== undefined ? { message: s.verdict.result } : {}),
          ...(note ? { note } : {}),
        };
      }),
  );

  server.registerTool(
    'mailbox_check',
    {
      title: 'Read new messages',
      description:
        'The unread messages of an inbox (default: supervisor), oldest first; they count as read afterwards.',
      inputSchema: {
        inbox: z.string().min(1).max(100).default(MAILBOX_SUPERVISOR).describe('a task id or `supervisor`'),
        run: runId,
      },
    },
    ({ inbox, run }) =>
      guarded(async () => {
        const { dir, state } = await load(run);
        const messages = await readInbox(new Mailbox(dir, { tasks: state.order }), inbox);
        return { run: state.run, inbox, messages };
      }),
  );

  server.registerTool(
    'deps_list',
    {
      title: 'Dependency requests',
      description: 'Pending dependency requests of the run, and conflicting versions of one package.',
      inputSchema: { run: runId },
      annotations: { readOnlyHint: true },
    },
    ({ run }) =>
      guarded(async () => {
        const { state } = await load(run);
        const requests = pendingRequests(state);
        return { run: state.run, requests, conflicts: findConflicts(requests) };
      }),
  );

  server.registerTool(
    'deps_decide',
    {
      title: 'Approve or deny a dependency request',
      description:
        "approve: install the requested packages on staging with the project's package manager and restart the blocked workers; deny: tell the worker why.",
      inputSchema: {
        decision: z.enum(['approve', 'deny']),
        task: z.string().min(1).max(100).optional().describe('the task whose request to decide'),
        all: z.boolean().default(false).describe('approve every pending request'),
        reason: z.string().min(1).optional().describe('deny: why (the worker reads it)'),
        run: runId,
      },
    },
    (i) =>
      guarded(async () => {
        const { repoRoot: root, run } = await load(i.run);
        if (i.decision === 'approve') {
          if (!i.task && !i.all) throw usage('Name the task whose request to approve, or pass all: true.');
          const res = await approveDeps(root, run, i.all ? 'all' : [i.task as string]);
          return { run, decision: 'approve', ...res };
        }
        if (!i.task) throw usage('Name the task whose request to deny.');
        if (!i.reason) throw usage('Give the reason for the denial; the worker reads it.');
        const denied = await denyDeps(root, run, i.task, i.reason);
        return { run, decision: 'deny', task: i.task, denied, reason: i.reason };
      }),
  );

  server.registerTool(
    'context_get',
    {
      title: 'Read the shared context',
      description:
        "Facts recorded for the workers' prompts: one key, the entries matching a text, or all of them.",
      inputSchema: {
        key: z.string().min(1).optional().describe('one key, e.g. api.dates'),
        search: z.string().min(1).optional().describe('entries whose key or value contains this text'),
      },
      annotations: { readOnlyHint: true },
    },
    ({ key, search }) =>
      guarded(async () => {
        const ctx = new ContextStore(await repoRoot());
        if (key !== undefined) {
          const entry = await ctx.get(key);
          if (!entry) {
            throw new OrchError('ERR_ORCH_CONTEXT_NOT_FOUND', `no context entry ${JSON.stringify(key)}`, {
              hint: 'List the keys with context_get and no key, or search with `search`.',
            });
          }
          return { entries: { [key]: entry } };
        }
        return { entries: search !== undefined ? await ctx.search(search) : await ctx.list() };
      }),
  );

  server.registerTool(
    'context_add',
    {
      title: 'Record a fact in the shared context',
      description:
        'Set a key of the shared context (a discovery, a convention); workers whose tasks it concerns see it in their prompts.',
      inputSchema: {
        key: z.string().min(1).describe('for example api.dates'),
        value: z.unknown().describe('text or any JSON value'),
      },
    },
    ({ key, value }) =>
      guarded(async () => {
        const ctx = new ContextStore(await repoRoot());
        return { key, ...(await ctx.set(key, value, { from: 'user' })) };
      }),
  );
}

function usage(message: string): OrchError {
  return new OrchError('ERR_ORCH_USAGE', message, { hint: 'See the pending requests with deps_list.' });
}

/** Resolves with the state once it needs the user (at once if it does already), or at the timeout. */
function waitForUser(
  dir: string,
  initial: RunState,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<RunState> {
  if (needsUser(initial).length > 0 || timeoutMs === 0) return Promise.resolve(initial);
  return new Promise((resolveState) => {
    let last = initial;
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      w.close();
      resolveState(last);
    };
    const w = watchJournal(dir, (_evs, s) => {
      last = s;
      if (needsUser(s).length > 0) done();
    });
    const timer = setTimeout(done, timeoutMs);
    signal.addEventListener('abort', done, { once: true });
  });
}

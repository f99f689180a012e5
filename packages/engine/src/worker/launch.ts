/**
 * Starts one worker attempt: worktree (created from the verified staging tip on the first attempt, reused
 * afterwards so commits are kept), prompt, and the agent in its own session on orch's tmux server.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OrchError, traced, type Task } from '@orch/core';
import { getAdapter } from '@orch/agents';
import { ContextStore, Mailbox, ensureRunKey, taskChannelPaths, taskToken } from '@orch/store';
import { sessionName } from '@orch/tmux';
import { workerBinPath } from '../assets.js';
import type { AttemptInputs } from '../ports/worker-runtime.js';
import { requireState, worktreePath, type RunContext } from '../run/context.js';
import { writeAttemptFiles, writeShim } from './attempt-files.js';
import { portBase } from './bootstrap.js';
import { buildWorkerPrompt, type PromptInput } from './prompt.js';
import { decideSandbox, sandboxLayout } from './sandbox.js';

/** The variables of `taskEnv` that are paths of the machine the attempt runs on. */
const PLACE_VARS = new Set(['ORCH_ROOT', 'ORCH_WORKTREE', 'PATH']);

export function findTask(ctx: RunContext, id: string): Task {
  const t = ctx.plan.tasks.find((x) => x.id === id);
  if (!t) throw new OrchError('ERR_ORCH_UNKNOWN_TASK', `Task ${id} is not in run ${ctx.run}.`);
  return t;
}

/** A directory with an `orch` executable, put first on every worker's PATH. */
export function ensureShim(ctx: RunContext): Promise<string> {
  return writeShim(join(ctx.privateDir, 'bin'), process.execPath, workerBinPath(ctx.orchBin));
}

export interface LaunchOptions {
  attempt: number;
  retry?: PromptInput['retry'];
  interrupted?: PromptInput['interrupted'];
}

/**
 * The task's worktree: the existing one, or one made (or remade after a crash) and bootstrapped.
 * `env` is what the bootstrap's setup commands see.
 */
export function ensureTaskWorktree(
  ctx: RunContext,
  id: string,
  env: Record<string, string> = taskEnv(ctx, id),
  logFile?: string,
): Promise<string> {
  return ctx.workspaces.ensure({ task: id, env, ...(logFile ? { logFile } : {}) });
}

/** What every process of a task's worker sees (the agent adds its own). */
export function taskEnv(
  ctx: RunContext,
  id: string,
  attempt = 1,
  shimDir = join(ctx.privateDir, 'bin'),
): Record<string, string> {
  return {
    ORCH_ROOT: ctx.repoRoot,
    ORCH_RUN: ctx.run,
    ORCH_TASK: id,
    ORCH_ATTEMPT: String(attempt),
    ORCH_WORKTREE: worktreePath(ctx.repoRoot, ctx.config, id),
    ORCH_PORT_BASE: String(
      portBase(
        ctx.config,
        ctx.plan.tasks.findIndex((x) => x.id === id),
      ),
    ),
    PATH: `${shimDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
  };
}

export async function launchWorker(ctx: RunContext, id: string, opts: LaunchOptions): Promise<void> {
  const task = findTask(ctx, id);
  const state = requireState(ctx);
  const agentName = state.tasks[id]?.agent ?? ctx.config.agents.default;
  const adapter = getAdapter(agentName);
  const env = taskEnv(ctx, id, opts.attempt, await ensureShim(ctx));
  const logPath = join(ctx.paths.logs, `${id}-${opts.attempt}.log`);
  const worktree = await ensureTaskWorktree(ctx, id, env, logPath);
  env.ORCH_WORKTREE = worktree;

  const mail = await unreadMessages(ctx, id);
  const prompt = buildWorkerPrompt({
    run: ctx.run,
    task,
    plan: ctx.plan,
    attempt: opts.attempt,
    contracts: await readContracts(ctx, task, worktree),
    context: await new ContextStore(ctx.repoRoot).getForTask(task.id, ctx.plan).catch(() => ''),
    messages: mail.lines,
    ...(opts.retry ? { retry: opts.retry } : {}),
    ...(opts.interrupted ? { interrupted: opts.interrupted } : {}),
    ...(adapter.workerNote ? { agentNote: adapter.workerNote } : {}),
  });
  const model = state.tasks[id]?.model;
  const plainEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !PLACE_VARS.has(k)));
  // The attempt as plain data; the files and argv are made from it where the attempt runs.
  const inputs: AttemptInputs = {
    run: ctx.run,
    task: id,
    attempt: opts.attempt,
    agent: adapter.name,
    ...(model ? { model } : {}),
    prompt,
    ...(task.run !== undefined ? { script: task.run } : {}),
    token: taskToken(await ensureRunKey(ctx.paths.dir), id, opts.attempt),
    env: plainEnv,
    sandbox: !ctx.workers.remote && (await decideSandbox(ctx.config)).on,
  };
  await mkdir(ctx.paths.logs, { recursive: true });
  const rawLog = join(ctx.paths.logs, `${id}-${opts.attempt}.raw.log`);
  const files = ctx.workers.remote
    ? undefined
    : await writeAttemptFiles(inputs, {
        root: ctx.repoRoot,
        worktree,
        logFile: logPath,
        rawLog,
        execPath: process.execPath,
        orchBin: workerBinPath(ctx.orchBin),
        env: { ORCH_ROOT: env.ORCH_ROOT as string, ORCH_WORKTREE: worktree, PATH: env.PATH as string },
        config: ctx.config,
        baseEnv: process.env,
        sandboxLayout: (agentEnv) => sandboxLayout(ctx, id, worktree, agentEnv, adapter.name),
      });
  const promptFile = files?.promptFile ?? taskChannelPaths(ctx.paths.dir, id).prompt(opts.attempt);
  // The messages count as read once the prompt that shows them is made (at least once).
  await mail.markRead();
  const session = sessionName(ctx.run, id);
  // From here on the supervisor's intake accepts this attempt's token.
  ctx.launched.set(id, opts.attempt);
  // A dead pane of an earlier attempt keeps the name; it is logged already, so it can go.
  await ctx.workers.kill(session);
  const cleared = await ctx.workspaces.clearGitLocks(id, worktree);
  if (cleared.length > 0)
    await ctx.journal.append({
      type: 'repair',
      task: id,
      what: `removed stale git locks ${cleared.join(', ')}`,
    });
  await ctx.workers.start({
    name: session,
    cwd: worktree,
    argv: files?.argv ?? [],
    env: files?.env ?? {},
    logFile: logPath,
    ...(ctx.workers.remote ? { attempt: inputs } : {}),
  });
  await ctx.journal.append({
    type: 'task.started',
    task: id,
    attempt: opts.attempt,
    session,
    agent: adapter.name,
    ...(model ? { model } : {}),
    promptPath: promptFile,
    logPath,
  });
}

async function readContracts(
  ctx: RunContext,
  task: Task,
  worktree: string,
): Promise<PromptInput['contracts']> {
  const wanted = ctx.plan.contracts.filter(
    (c) =>
      task.contracts_used.includes(c.name) ||
      c.consumers.includes(task.id) ||
      task.files_write.includes(c.file_path),
  );
  const out: PromptInput['contracts'] = [];
  for (const c of wanted) {
    const text = await readFile(join(worktree, c.file_path), 'utf8').catch(() => '(file missing)');
    out.push({ path: c.file_path, name: c.name, version: c.version, text });
  }
  return out;
}

async function unreadMessages(
  ctx: RunContext,
  id: string,
): Promise<{ lines: string[]; markRead: () => Promise<void> }> {
  try {
    const box = new Mailbox(ctx.paths.dir, { tasks: ctx.plan.tasks.map((t) => t.id) });
    const msgs = await box.unread(id);
    return {
      lines: msgs.map((m) => `- from ${m.from} (${m.type}): ${m.body}`),
      // Left unread when this fails: the worker's own check shows them again.
      markRead: () =>
        box
          .markRead(
            id,
            msgs.map((m) => m.id),
          )
          .catch(traced('launch.markRead')),
    };
  } catch {
    return { lines: [], markRead: async () => {} };
  }
}

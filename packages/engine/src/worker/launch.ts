/**
 * Starts one worker attempt: worktree (created from the verified staging tip on the first attempt, reused
 * afterwards so commits are kept), prompt, and the agent in its own session on orch's tmux server.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OrchError, roleFile, traced, type Task } from '@orch/core';
import { getAdapter, orchMcpConfig } from '@orch/agents';
import {
  ContextStore,
  Mailbox,
  ensureRunKey,
  mailboxHookSettings,
  taskChannelPaths,
  taskToken,
  writeFileAtomic,
} from '@orch/store';
import { sessionName } from '@orch/tmux';
import { assetsRoot, workerBinPath } from '../assets.js';
import { requireState, worktreePath, type RunContext } from '../run/context.js';
import { portBase } from './bootstrap.js';
import type { ExecSpec } from './exec.js';
import { buildWorkerPrompt, type PromptInput } from './prompt.js';
import { decideSandbox, sandboxLayout } from './sandbox.js';
import { agentProcessEnv } from './spawn-agent.js';

export function findTask(ctx: RunContext, id: string): Task {
  const t = ctx.plan.tasks.find((x) => x.id === id);
  if (!t) throw new OrchError('ERR_ORCH_UNKNOWN_TASK', `Task ${id} is not in run ${ctx.run}.`);
  return t;
}

/** A directory with an `orch` executable, put first on every worker's PATH. */
export async function ensureShim(ctx: RunContext): Promise<string> {
  const dir = join(ctx.privateDir, 'bin');
  const shim = join(dir, 'orch');
  const body = `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(workerBinPath(ctx.orchBin))} "$@"\n`;
  await mkdir(dir, { recursive: true });
  const current = existsSync(shim) ? await readFile(shim, 'utf8') : '';
  if (current !== body) {
    await writeFileAtomic(shim, body);
    await chmod(shim, 0o755);
  }
  return dir;
}

/** Claude Code settings whose hooks hand new mailbox messages to the agent at turn boundaries. */
async function writeClaudeSettings(ctx: RunContext, task: string): Promise<string> {
  const file = join(taskChannelPaths(ctx.paths.dir, task).dir, 'claude-settings.json');
  await writeFileAtomic(
    file,
    `${JSON.stringify(mailboxHookSettings([process.execPath, workerBinPath(ctx.orchBin)]), null, 2)}\n`,
  );
  return file;
}

/**
 * The `--mcp-config` file that gives a claude worker orch's MCP server. The server inherits the
 * agent's environment, whose ORCH_TASK_TOKEN binds it to the task: the file holds no secret.
 */
async function writeMcpConfig(ctx: RunContext, task: string): Promise<string> {
  const file = join(taskChannelPaths(ctx.paths.dir, task).dir, 'mcp.json');
  const config = orchMcpConfig([process.execPath, workerBinPath(ctx.orchBin), 'mcp']);
  await writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
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
  // Everything the worker's processes read lives in its task channel (private to the user: 0700).
  const channel = taskChannelPaths(ctx.paths.dir, id);
  await mkdir(channel.dir, { recursive: true, mode: 0o700 });
  await chmod(channel.dir, 0o700);
  for (const d of [
    channel.outbox.tmp,
    channel.outbox.new,
    join(channel.inbox, 'new'),
    join(channel.inbox, 'cur'),
  ])
    await mkdir(d, { recursive: true });
  await mkdir(ctx.paths.logs, { recursive: true });
  const promptFile = channel.prompt(opts.attempt);
  await writeFileAtomic(promptFile, prompt);
  // The messages count as read once the prompt that shows them is written (at least once).
  await mail.markRead();
  const rawLog = join(ctx.paths.logs, `${id}-${opts.attempt}.raw.log`);

  const model = state.tasks[id]?.model;
  const cmd = adapter.buildCommand({
    role: 'worker',
    taskId: id,
    worktree,
    promptFile,
    prompt,
    systemPromptFile: roleFile('worker', assetsRoot()),
    ...(adapter.name === 'claude'
      ? { settingsFile: await writeClaudeSettings(ctx, id), mcpConfigFile: await writeMcpConfig(ctx, id) }
      : {}),
    ...(model ? { model } : {}),
    config: ctx.config,
    ...(task.run !== undefined ? { script: task.run } : {}),
    env,
  });
  // The agent's command goes to the wrapper in a file: long prompts and system prompts would
  // overflow tmux's message size, and tmux replaces PATH with the client's.
  const agentEnvironment = agentProcessEnv(cmd, ctx.config, process.env, env);
  const sandbox = (await decideSandbox(ctx.config)).on
    ? await sandboxLayout(ctx, id, worktree, agentEnvironment, adapter.name)
    : undefined;
  const spec: ExecSpec = {
    run: ctx.run,
    task: id,
    attempt: opts.attempt,
    agent: adapter.name,
    rawLog,
    argv: cmd.argv,
    // Secrets travel in this file (0600), never on tmux's command line, where `ps` shows them.
    env: agentEnvironment,
    unset: cmd.unsetEnv,
    ...(sandbox ? { sandbox } : {}),
    ...(cmd.stdinFile ? { stdin: cmd.stdinFile } : {}),
    // The attempt's secret: in this 0600 file only, never on a command line or in the prompt.
    token: taskToken(await ensureRunKey(ctx.paths.dir), id, opts.attempt),
  };
  const specFile = channel.spec(opts.attempt);
  await writeFileAtomic(specFile, `${JSON.stringify(spec, null, 2)}\n`, { mode: 0o600 });
  const argv = [process.execPath, workerBinPath(ctx.orchBin), '_exec', specFile];
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
    argv,
    env: { ORCH_ROOT: ctx.repoRoot },
    logFile: logPath,
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

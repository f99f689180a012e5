/**
 * One headless Claude Code run for an orch role that reads and reports (reviewer, verifier): the
 * claude adapter's command, run to completion with execa, its stream parsed into the final result.
 * These roles never edit: they get read-only tools whatever the workers are allowed.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Config, roleFile, type Usage } from '@orch/core';
import { getAdapter, type AgentEvent } from '@orch/agents';
import { writeFileAtomic } from '@orch/store';
import { assetsRoot } from '../assets.js';
import type { RunContext } from '../run/context.js';
import { spawnAgent } from '../worker/spawn-agent.js';

/**
 * Per read-only role, as in the agents' definitions (`tools:` in roles/<role>.md): the built-in
 * tools the CLI offers at all (`--tools`), and what may run without asking (`--allowedTools`).
 */
const READ_ONLY: Record<'reviewer' | 'verifier', { tools: string; allowed: string[] }> = {
  reviewer: {
    tools: 'Read,Glob,Grep,Bash',
    allowed: ['Read', 'Glob', 'Grep', 'Bash(git log:*)', 'Bash(git show:*)', 'Bash(git diff:*)'],
  },
  verifier: { tools: 'Read,Glob,Grep', allowed: ['Read', 'Glob', 'Grep'] },
};

export interface HeadlessRequest {
  role: 'reviewer' | 'verifier';
  /** File-name stem for the prompt and the log (e.g. `review-1-2`). */
  name: string;
  prompt: string;
  cwd: string;
  timeoutMs: number;
}

export type HeadlessResult =
  | { ok: true; text: string; usage?: Partial<Usage>; logPath: string }
  /** `unavailable`: claude could not be started at all (not installed, not on PATH). */
  | { ok: false; unavailable: boolean; reason: string; logPath: string };

/** The `model:` of an agent definition's front matter (opus, haiku, ...), if any. */
export function definitionModel(file: string): string | undefined {
  try {
    const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
    return /^model:\s*([\w.:-]+)\s*$/m.exec(front)?.[1];
  } catch {
    return undefined;
  }
}

export function definitionFile(role: HeadlessRequest['role']): string {
  return roleFile(role, assetsRoot());
}

export async function runHeadless(ctx: RunContext, req: HeadlessRequest): Promise<HeadlessResult> {
  const promptFile = join(ctx.paths.prompts, `${req.name}.md`);
  const logPath = join(ctx.paths.logs, `${req.name}.log`);
  await mkdir(dirname(promptFile), { recursive: true });
  await mkdir(dirname(logPath), { recursive: true });
  await writeFileAtomic(promptFile, req.prompt);

  const systemPromptFile = definitionFile(req.role);
  const agents = ctx.config.agents;
  // The run's model choice wins; otherwise the model the definition was written for.
  const model = agents.model ?? definitionModel(systemPromptFile);
  // Read-only: no edit tools offered, nothing auto-accepted (headless, the default mode denies
  // whatever is not allowed), whatever the workers' settings are.
  const role = READ_ONLY[req.role];
  const config = Config.parse({
    ...ctx.config,
    agents: {
      ...agents,
      permission_mode: 'default',
      allowed_tools: role.allowed,
      extra_args: {
        ...agents.extra_args,
        claude: [...(agents.extra_args['claude'] ?? []), '--tools', role.tools],
      },
    },
  });
  const adapter = getAdapter('claude');
  const cmd = adapter.buildCommand({
    role: req.role,
    taskId: req.name,
    worktree: req.cwd,
    promptFile,
    prompt: req.prompt,
    systemPromptFile,
    ...(model ? { model } : {}),
    config,
    env: { ORCH_ROOT: ctx.repoRoot, ORCH_RUN: ctx.run },
  });
  const bin = cmd.argv[0];
  const r = await spawnAgent(cmd, { cwd: req.cwd, config, timeoutMs: req.timeoutMs, killSignal: 'SIGKILL' });
  const stdout = String(r.stdout ?? '');
  const stderr = String(r.stderr ?? '');
  await writeFileAtomic(logPath, `${stdout}${stderr ? `\n[stderr]\n${stderr}` : ''}`);
  if (r.exitCode === undefined && !r.timedOut) {
    return { ok: false, unavailable: true, reason: `cannot start ${bin}: ${r.shortMessage}`, logPath };
  }
  if (r.timedOut) {
    return {
      ok: false,
      unavailable: false,
      reason: `the ${req.role} did not answer within ${Math.round(req.timeoutMs / 1000)} s`,
      logPath,
    };
  }
  const parser = adapter.createParser();
  const events: AgentEvent[] = [...parser.push(stdout), ...parser.end()];
  const result = events.findLast((e): e is Extract<AgentEvent, { type: 'result' }> => e.type === 'result');
  if (!result) {
    const tail = (stderr || stdout).trim().split('\n').slice(-5).join('\n');
    return {
      ok: false,
      unavailable: false,
      reason: `the ${req.role} ended (exit ${r.exitCode}) without a result${tail ? `: ${tail}` : ''}`,
      logPath,
    };
  }
  if (!result.ok) {
    return {
      ok: false,
      unavailable: false,
      reason: `the ${req.role} failed: ${result.summary ?? `exit ${r.exitCode}`}`,
      logPath,
    };
  }
  return { ok: true, text: result.summary ?? '', ...(result.usage ? { usage: result.usage } : {}), logPath };
}

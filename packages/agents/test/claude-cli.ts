/** Runs the real Claude Code CLI, as the claude adapter builds it, against a scripted API stub. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config, type ConfigInput } from '@orch/core';
import { claudeBin, startAnthropicStub, type AnthropicStub, type StubScript } from '@orch/test-utils';
import { execa } from 'execa';
import { getAdapter, type AgentCommand, type AgentEvent } from '../src/index.js';

export interface ClaudeRun {
  command: AgentCommand;
  stub: AnthropicStub;
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  events: AgentEvent[];
  configDir: string;
}

export async function runClaude(opts: {
  cwd: string;
  script: StubScript;
  prompt: string;
  systemPrompt?: string;
  config?: ConfigInput;
  extraEnv?: Record<string, string>;
}): Promise<ClaudeRun> {
  const scratch = await mkdtemp(join(tmpdir(), 'orch-claude-'));
  const configDir = join(scratch, 'config');
  const promptFile = join(scratch, 'prompt.md');
  await writeFile(promptFile, opts.prompt);
  let systemPromptFile: string | undefined;
  if (opts.systemPrompt !== undefined) {
    systemPromptFile = join(scratch, 'worker.md');
    await writeFile(systemPromptFile, opts.systemPrompt);
  }
  const command = getAdapter('claude').buildCommand({
    role: 'worker',
    taskId: 'greet',
    worktree: opts.cwd,
    promptFile,
    prompt: opts.prompt,
    ...(systemPromptFile ? { systemPromptFile } : {}),
    config: Config.parse(opts.config ?? {}),
    env: { ORCH_TASK: 'greet' },
  });
  const stub = await startAnthropicStub({ script: opts.script });
  try {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !command.unsetEnv.includes(k)) env[k] = v;
    Object.assign(env, command.env, {
      ANTHROPIC_BASE_URL: stub.url,
      ANTHROPIC_API_KEY: 'sk-orch-test',
      CLAUDE_CONFIG_DIR: configDir,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      ...opts.extraEnv,
    });
    // argv[0] is `claude`; the tests run the copy installed as a devDependency.
    const r = await execa(claudeBin(), command.argv.slice(1), {
      cwd: opts.cwd,
      env,
      extendEnv: false,
      ...(command.stdinFile ? { inputFile: command.stdinFile } : { stdin: 'ignore' as const }),
      reject: false,
      timeout: 120_000,
    });
    const parser = getAdapter('claude').createParser();
    const events: AgentEvent[] = [];
    // Feed odd-sized chunks, as a pipe would deliver them.
    for (let i = 0; i < r.stdout.length; i += 777) events.push(...parser.push(r.stdout.slice(i, i + 777)));
    events.push(...parser.end());
    return { command, stub, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, events, configDir };
  } finally {
    await stub.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** A transcript without machine-specific paths, ports or random ids, for the fixtures. */
export function scrubTranscript(stdout: string, paths: Record<string, string>, port: number): string {
  let out = stdout;
  for (const [from, to] of Object.entries(paths)) {
    out = out.split(from).join(to);
    // Claude Code also names per-project folders after the path, with every `/` turned into `-`.
    out = out.split(from.replace(/[/.]/g, '-')).join(to.replace(/[/.]/g, '-'));
  }
  out = out.replace(/\/tmp\/cc-socks\/\d+\.sock/g, '/tmp/cc-socks/0.sock');
  out = out.split(`127.0.0.1:${port}`).join('127.0.0.1:8787');
  const ids = new Map<string, string>();
  out = out.replace(UUID, (u) => {
    if (!ids.has(u)) ids.set(u, `00000000-0000-4000-8000-${String(ids.size + 1).padStart(12, '0')}`);
    return ids.get(u) ?? u;
  });
  return out.endsWith('\n') ? out : `${out}\n`;
}

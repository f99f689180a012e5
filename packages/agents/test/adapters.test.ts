import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config, OrchError, type ConfigInput } from '@orch/core';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  contextWindowFor,
  getAdapter,
  listAdapters,
  orchMcpConfig,
  type AgentCommand,
  type AgentEvent,
  type AgentLaunchContext,
} from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orch-agents-'));
  await writeFile(join(dir, 'prompt.md'), 'Do the task.\n');
  await writeFile(
    join(dir, 'worker.md'),
    '---\nname: worker\ntools: Read\n---\n# Worker rules\nStay in your files.\n',
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function ctx(over: Partial<AgentLaunchContext> = {}, config: ConfigInput = {}): AgentLaunchContext {
  return {
    role: 'worker',
    taskId: 'api',
    worktree: join(dir, 'wt'),
    promptFile: join(dir, 'prompt.md'),
    prompt: 'Do the task.\n',
    config: Config.parse(config),
    env: { ORCH_TASK: 'api', ORCH_RUN: 'r1' },
    ...over,
  };
}

/** Runs a built command for real (argv array, no shell) and parses its output. */
async function run(
  adapterName: string,
  cmd: AgentCommand,
  cwd: string,
): Promise<{ exitCode?: number; events: AgentEvent[] }> {
  const [file, ...args] = cmd.argv;
  const r = await execa(file!, args, { cwd, env: cmd.env, reject: false });
  const parser = getAdapter(adapterName).createParser();
  return { exitCode: r.exitCode, events: [...parser.push(r.stdout), ...parser.end()] };
}

describe('registry', () => {
  it('knows every adapter by name', () => {
    expect(listAdapters().map((a) => a.name)).toEqual([
      'claude',
      'codex',
      'gemini',
      'aider',
      'command',
      'shell',
    ]);
    expect(getAdapter('codex').binary).toBe('codex');
    expect(getAdapter('shell').binary).toBeUndefined();
  });

  it('gives every adapter a done signal: the process exit for scripts and aider, the result event for the rest', () => {
    expect(Object.fromEntries(listAdapters().map((a) => [a.name, a.done]))).toEqual({
      claude: 'result-event',
      codex: 'result-event',
      gemini: 'result-event',
      aider: 'process-exit',
      command: 'process-exit',
      shell: 'process-exit',
    });
    // The agents that cannot commit or run `orch task` are told so in their prompt.
    expect(getAdapter('codex').workerNote).toMatch(/read-only.*do not commit/);
    expect(getAdapter('aider').workerNote).toMatch(/do not run `orch task/);
    expect(getAdapter('claude').workerNote).toBeUndefined();
  });

  it('rejects an unknown agent with a stable code that lists the known ones', () => {
    let err: unknown;
    try {
      getAdapter('cursor');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OrchError);
    expect((err as OrchError).code).toBe('ERR_ORCH_UNKNOWN_AGENT');
    expect((err as OrchError).message).toContain('claude, codex, gemini, aider, command, shell');
  });

  it('knows context windows, 200k by default for claude models', () => {
    expect(contextWindowFor()).toBe(200_000);
    expect(contextWindowFor('claude-sonnet-4-5')).toBe(200_000);
    expect(contextWindowFor('sonnet[1m]')).toBe(1_000_000);
    expect(contextWindowFor('gemini-2.5-pro')).toBe(1_048_576);
  });
});

describe('claude command', () => {
  it('runs headless stream-json with the permission mode, tools, model, system prompt and settings', () => {
    const cmd = getAdapter('claude').buildCommand(
      ctx(
        { systemPromptFile: join(dir, 'worker.md'), settingsFile: join(dir, 'settings.json'), model: 'opus' },
        { agents: { extra_args: { claude: ['--max-turns', '40'] } } },
      ),
    );
    expect(cmd.argv).toEqual([
      'claude',
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--permission-mode',
      'acceptEdits',
      '--allowedTools',
      'Read,Write,Edit,MultiEdit,Glob,Grep,LS,Bash',
      '--model',
      'opus',
      '--append-system-prompt',
      '# Worker rules\nStay in your files.\n',
      '--settings',
      join(dir, 'settings.json'),
      '--max-turns',
      '40',
    ]);
    expect(cmd.stdinFile).toBe(join(dir, 'prompt.md'));
    expect(cmd.unsetEnv).toContain('CLAUDECODE');
    expect(cmd.env).toEqual({ ORCH_TASK: 'api', ORCH_RUN: 'r1' });
  });

  it('uses the configured model and mode, and gives a reviewer no editing tools', () => {
    const cmd = getAdapter('claude').buildCommand(
      ctx({ role: 'reviewer' }, { agents: { model: 'sonnet', permission_mode: 'bypassPermissions' } }),
    );
    expect(cmd.argv).toContain('bypassPermissions');
    expect(cmd.argv[cmd.argv.indexOf('--model') + 1]).toBe('sonnet');
    expect(cmd.argv[cmd.argv.indexOf('--allowedTools') + 1]).toBe('Read,Glob,Grep,LS,Bash');
  });

  it("gives a worker orch's MCP server by --mcp-config and allows the server's tools", () => {
    const cmd = getAdapter('claude').buildCommand(ctx({ mcpConfigFile: join(dir, 'mcp.json') }));
    expect(cmd.argv[cmd.argv.indexOf('--mcp-config') + 1]).toBe(join(dir, 'mcp.json'));
    expect(cmd.argv[cmd.argv.indexOf('--allowedTools') + 1]).toBe(
      'Read,Write,Edit,MultiEdit,Glob,Grep,LS,Bash,mcp__orch',
    );
    // The config names the command only: the worker's token reaches the server in its environment.
    const config = orchMcpConfig(['/usr/bin/node', '/opt/orch/bin.js', 'mcp']);
    expect(config).toEqual({
      mcpServers: { orch: { type: 'stdio', command: '/usr/bin/node', args: ['/opt/orch/bin.js', 'mcp'] } },
    });
  });

  it('says which system prompt file it cannot read', () => {
    expect(() =>
      getAdapter('claude').buildCommand(ctx({ systemPromptFile: join(dir, 'missing.md') })),
    ).toThrow(/cannot read the system prompt file .*missing\.md/);
  });
});

describe('codex, gemini and aider commands', () => {
  it('codex: exec --json in a workspace-write sandbox, prompt on stdin', () => {
    const cmd = getAdapter('codex').buildCommand(ctx({ model: 'gpt-5-codex' }));
    expect(cmd.argv).toEqual([
      'codex',
      'exec',
      '--json',
      '--sandbox',
      'workspace-write',
      '--skip-git-repo-check',
      '--model',
      'gpt-5-codex',
      '-',
    ]);
    expect(cmd.stdinFile).toBe(join(dir, 'prompt.md'));
  });

  it('gemini: the prompt as one --prompt= argument, stream-json, approval mode from the permission mode', () => {
    const cmd = getAdapter('gemini').buildCommand(ctx({ prompt: '--rm -rf is not a flag here' }));
    expect(cmd.argv).toEqual([
      'gemini',
      '--prompt=--rm -rf is not a flag here',
      '--output-format',
      'stream-json',
      '--approval-mode',
      'yolo',
    ]);
    expect(
      getAdapter('gemini').buildCommand(ctx({}, { agents: { permission_mode: 'plan' } })).argv,
    ).toContain('plan');
    // Headless Gemini exits 55 in a folder it does not trust, and every worktree is new.
    expect(cmd.env['GEMINI_CLI_TRUST_WORKSPACE']).toBe('true');
    const long = getAdapter('gemini').buildCommand(ctx({ prompt: 'x'.repeat(200_000) }));
    expect(long.stdinFile).toBe(join(dir, 'prompt.md'));
    expect(long.argv.join(' ').length).toBeLessThan(1000);
  });

  it('aider: one message from the prompt file, no auto commits', () => {
    expect(getAdapter('aider').buildCommand(ctx({}, { agents: { model: 'sonnet' } })).argv).toEqual([
      'aider',
      '--yes-always',
      '--no-auto-commits',
      '--message-file',
      join(dir, 'prompt.md'),
      '--model',
      'sonnet',
    ]);
  });
});

describe('command adapter', () => {
  it('substitutes placeholders inside each argument and never goes through a shell', async () => {
    const hostile = join(dir, 'wt $(touch pwned) "q"');
    const cmd = getAdapter('command').buildCommand(
      ctx(
        { worktree: hostile, taskId: 'api;rm' },
        {
          agents: {
            command: [
              'node',
              '-e',
              'for (const a of process.argv.slice(1)) console.log(a)',
              '--',
              'task={task}',
              '{worktree}',
              'p={prompt_file}',
            ],
          },
        },
      ),
    );
    expect(cmd.argv.slice(4)).toEqual(['task=api;rm', hostile, `p=${join(dir, 'prompt.md')}`]);
    const { exitCode, events } = await run('command', cmd, dir);
    expect(exitCode).toBe(0);
    // node drops the `--`; each value arrives whole, and nothing was run by a shell.
    expect(events).toEqual([
      { type: 'text', text: 'task=api;rm' },
      { type: 'text', text: hostile },
      { type: 'text', text: `p=${join(dir, 'prompt.md')}` },
    ]);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  it('explains a missing template', () => {
    expect(() => getAdapter('command').buildCommand(ctx())).toThrow(/agents\.command/);
  });
});

describe('shell adapter', () => {
  it('runs the task script with bash in the working directory, with ORCH_* and ORCH_ATTEMPT', async () => {
    const script = 'echo "task=$ORCH_TASK attempt=$ORCH_ATTEMPT"; pwd; printf "no newline"';
    const cmd = getAdapter('shell').buildCommand(
      ctx({ script, env: { ORCH_TASK: 'api', ORCH_ATTEMPT: '2' } }),
    );
    expect(cmd.argv).toEqual(['bash', '-c', script]);
    const { exitCode, events } = await run('shell', cmd, dir);
    expect(exitCode).toBe(0);
    expect(events).toEqual([
      { type: 'text', text: 'task=api attempt=2' },
      { type: 'text', text: dir },
      { type: 'text', text: 'no newline' },
    ]);
  });

  it('defaults ORCH_ATTEMPT to 1 and refuses a task without a script', () => {
    expect(getAdapter('shell').buildCommand(ctx({ script: 'true' })).env['ORCH_ATTEMPT']).toBe('1');
    expect(() => getAdapter('shell').buildCommand(ctx())).toThrow(OrchError);
  });
});

/**
 * `orch mcp` with the real Claude Code CLI against the scripted Anthropic API stub: a claude worker
 * of a real run reports done through `mcp__orch__task_done` (its server given by --mcp-config and
 * bound to its task by the token in its environment), and then an orchestrating session reads the
 * finished run with `mcp__orch__run_status`.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  claudeBin,
  claudeWorld,
  currentRun,
  orchBin,
  runEvents,
  runOrch,
  text,
  toolResults,
  toolUse,
  turn,
  type ClaudeWorld,
  type StubAnswer,
  type StubRequest,
  type TempRepo,
} from '@orch/test-utils';

const PLAN = `request: greet
tasks:
  - id: greet
    description: write src/greet.txt
    agent: claude
    model: claude-sonnet-4-5
    files_write: [src/greet.txt]
    verification:
      - command: test -s src/greet.txt
        type: check
`;

/** The prompt of the orchestrating session: tells the stub which conversation it is in. */
const ORCHESTRATOR_PROMPT = 'How is the orch run doing?';

type Message = { role: string; content: unknown };
const steps = (req: StubRequest): number =>
  ((req.body?.['messages'] ?? []) as Message[]).filter((m) => m.role === 'assistant').length;
/** The MCP tools a request offers the model (Claude Code may defer them behind its tool search). */
const orchTools = (req: StubRequest): string[] => [
  ...new Set(JSON.stringify(req.body ?? {}).match(/mcp__orch__[a-z_]+/g) ?? []),
];

/** Runs a program to its end without blocking this process (the API stub answers from here). */
function run_(
  file: string,
  args: string[],
  o: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { ...o, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ exitCode: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

describe('orch mcp with Claude Code', () => {
  let world: ClaudeWorld;
  let repo: TempRepo;
  let configDir: string;
  /** What each MCP tool call of the script got back. */
  const results: Record<string, { content: unknown; is_error?: boolean }> = {};
  const offered: Record<string, string[]> = {};

  beforeEach(async () => {
    world = await claudeWorld({ 'README.md': '# demo\n', 'tasks.yaml': PLAN }, (req): StubAnswer => {
      const orchestrating = JSON.stringify(req.body?.['messages'] ?? []).includes(ORCHESTRATOR_PROMPT);
      const step = steps(req);
      if (orchestrating) {
        if (step === 0) {
          offered['orchestrator'] = orchTools(req);
          return turn(toolUse('mcp__orch__run_status', {}));
        }
        results['run_status'] = toolResults(req)[0] ?? { content: null };
        return turn(text('The run has finished.'));
      }
      const cwd = /Primary working directory: ([^\s"\\]+)/.exec(JSON.stringify(req.body))?.[1] ?? repo.root;
      switch (step) {
        case 0:
          offered['worker'] = orchTools(req);
          return turn(
            toolUse('Write', { file_path: join(cwd, 'src', 'greet.txt'), content: 'greet by claude\n' }),
          );
        case 1:
          return turn(
            toolUse('Bash', {
              command: 'git add -A && git commit -q -m "greet: add src/greet.txt"',
              description: 'Commit',
            }),
          );
        case 2:
          return turn(toolUse('mcp__orch__task_done', { summary: 'greet written, reported over MCP' }));
        default:
          results['task_done'] = toolResults(req)[0] ?? { content: null };
          return turn(text('Done.'));
      }
    });
    repo = world.repo;
    configDir = world.configDir;
  });
  afterEach(async () => {
    await world.cleanup();
  });

  it('a worker reports done with mcp__orch__task_done; the session reads the run with mcp__orch__run_status', async () => {
    const env = world.env;
    const r = await runOrch(['run', 'tasks.yaml', '--no-tui', '--yes'], {
      cwd: repo.root,
      env,
      timeoutMs: 240_000,
    });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const run = await currentRun(repo.root);

    // The worker had its own tools, not the orchestrating session's, and its report was accepted.
    expect(offered['worker']).toEqual(
      expect.arrayContaining(['mcp__orch__task_done', 'mcp__orch__task_progress']),
    );
    expect(offered['worker']).not.toContain('mcp__orch__run_start');
    expect(results['task_done']?.is_error).toBeFalsy();
    const events = await runEvents(repo.root);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'task.reported',
        task: 'greet',
        status: 'done',
        summary: 'greet written, reported over MCP',
      }),
    );
    expect(events).toContainEqual(expect.objectContaining({ type: 'task.merged', task: 'greet' }));
    expect(await repo.git('show', 'main:src/greet.txt')).toBe('greet by claude');

    // The orchestrating session: orch mcp from an --mcp-config, the way the plugin's .mcp.json starts it.
    const mcpConfig = join(configDir, 'orch-mcp.json');
    await writeFile(
      mcpConfig,
      JSON.stringify({ mcpServers: { orch: { command: process.execPath, args: [orchBin(), 'mcp'] } } }),
    );
    const session = await run_(
      claudeBin(),
      [
        '-p',
        '--output-format',
        'json',
        // The stub takes the model of the first conversation as the main one.
        '--model',
        'claude-sonnet-4-5',
        '--mcp-config',
        mcpConfig,
        '--allowedTools',
        'mcp__orch__run_status',
        '--',
        ORCHESTRATOR_PROMPT,
      ],
      { cwd: repo.root, env: { ...process.env, ...env } },
    );
    expect(session.exitCode, session.stderr).toBe(0);
    expect(offered['orchestrator']).toEqual(
      expect.arrayContaining(['mcp__orch__run_status', 'mcp__orch__run_wait', 'mcp__orch__plan_check']),
    );
    const status = results['run_status'];
    expect(status?.is_error).toBeFalsy();
    const body = JSON.stringify(status?.content);
    expect(body).toContain(run);
    expect(body).toContain('\\"status\\":\\"merged\\"');
    expect(body).toContain('\\"outcome\\":\\"succeeded\\"');
  });
});

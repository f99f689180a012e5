/**
 * `orch run` end to end with the real Claude Code CLI as the worker agent, pointed at the scripted
 * Anthropic API stub: the CLI writes the task's file and commits it in its worktree, reports done
 * through orch's status command, and its stream-json figures land in the run's journal.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  apiError,
  claudeWorld,
  landedTasks,
  runEvents,
  runOrch,
  text,
  toolUse,
  turn,
  type ClaudeWorld,
  type StubAnswer,
  type StubRequest,
  type TempRepo,
} from '@orch/test-utils';

/** A test of whole runs with the real Claude Code CLI. */
const CLAUDE_RUN_MS = 150_000;
const MODEL = 'claude-sonnet-4-5';
/** Per-turn usage the stub reports; the same for every worker so the totals are easy to state. */
const USAGE = [
  { input_tokens: 1000, output_tokens: 40, cache_read_input_tokens: 200, cache_creation_input_tokens: 50 },
  { input_tokens: 1100, output_tokens: 30, cache_read_input_tokens: 300 },
  { input_tokens: 1200, output_tokens: 10, cache_read_input_tokens: 400 },
];

function task(id: string, deps: string[]): string {
  return `
  - id: ${id}
    description: write src/${id}.txt
    agent: claude
    model: ${MODEL}
    files_write: [src/${id}.txt]
    depends_on: [${deps.join(', ')}]
    verification:
      - command: test -s src/${id}.txt
        type: check`;
}

const PLAN = `request: greet, then say goodbye
tasks:${task('greet', [])}${task('farewell', ['greet'])}
`;
/** The rate-limit test's plan: its assertions are all about greet, so farewell's worker is not run. */
const GREET_PLAN = `request: greet
tasks:${task('greet', [])}
`;

type Message = { role: string; content: unknown };

/** Which worker is talking (the task id in its prompt), how far its conversation is, and where it runs. */
function conversation(req: StubRequest): { task: string; step: number; cwd: string | undefined } {
  const messages = (req.body?.['messages'] ?? []) as Message[];
  const all = JSON.stringify(req.body ?? {});
  const first = JSON.stringify(messages.find((m) => m.role === 'user') ?? {});
  return {
    task: /# Task `([a-z0-9._-]+)`/.exec(first)?.[1] ?? '?',
    step: messages.filter((m) => m.role === 'assistant').length,
    cwd: /Primary working directory: ([^\s"\\]+)/.exec(all)?.[1],
  };
}

/** When set, the first request of the run answers 429 (a rate limit). */
let limitFirstRequest = false;

describe('orch run with Claude Code workers', () => {
  let world: ClaudeWorld;
  let repo: TempRepo;
  /** The first request of each worker: which task it works on and in which directory. */
  const seen: { task: string; cwd: string | undefined }[] = [];

  beforeEach(async () => {
    seen.length = 0;
    world = await claudeWorld({ 'README.md': '# demo\n', 'tasks.yaml': PLAN }, (req): StubAnswer => {
      if (limitFirstRequest) {
        limitFirstRequest = false;
        return apiError(
          429,
          'rate_limit_error',
          'Number of request tokens has exceeded your per-minute rate limit',
        );
      }
      const c = conversation(req);
      if (c.step === 0) seen.push({ task: c.task, cwd: c.cwd });
      const cwd = c.cwd ?? join(repo.root, '.worktrees', c.task);
      const other = c.task === 'farewell' ? 'greet' : undefined;
      switch (c.step) {
        case 0:
          return turn(
            text(`Writing src/${c.task}.txt.`),
            toolUse('Write', {
              file_path: join(cwd, 'src', `${c.task}.txt`),
              content: `${c.task} by claude\n`,
            }),
            USAGE[0]!,
          );
        case 1:
          return turn(
            toolUse('Bash', {
              // The dependent task proves it sees its dependency's merged file before committing.
              command: [
                ...(other ? [`test -f src/${other}.txt`] : []),
                'git add -A',
                `git commit -q -m "${c.task}: add src/${c.task}.txt"`,
                `orch task done --summary "${c.task} written"`,
              ].join(' && '),
              description: 'Commit and report done',
            }),
            USAGE[1]!,
          );
        default:
          return turn(text(`Done: src/${c.task}.txt is committed.`), USAGE[2]!);
      }
    });
    repo = world.repo;
  });
  afterEach(async () => {
    await world.cleanup();
  });

  // Two whole runs of the real Claude Code CLI (a Node process per turn): past the suite's 60 s
  // on a loaded machine.
  it(
    'runs two dependent claude tasks: files, commits, merges and token figures from the stream',
    async () => {
      const env = world.env;
      const r = await runOrch(['run', 'tasks.yaml', '--no-tui', '--yes'], {
        cwd: repo.root,
        env,
        timeoutMs: 240_000,
      });
      expect(r.stderr).toBe('');
      expect(r.exitCode, r.stdout).toBe(0);
      const runId = (await readFile(join(repo.root, '.orchestrator', 'current'), 'utf8')).trim();
      const staging = `orch/${runId}/staging`;

      // Each worker ran in its own worktree, greet first.
      expect(seen.map((s) => s.task)).toEqual(['greet', 'farewell']);
      expect(seen[0]?.cwd).toMatch(/\.worktrees\/greet$/);
      expect(seen[1]?.cwd).toMatch(/\.worktrees\/farewell$/);

      // The files the CLI wrote are on staging and, promoted, on main; the user's checkout has them too.
      for (const t of ['greet', 'farewell']) {
        expect(await repo.git('show', `${staging}:src/${t}.txt`)).toBe(`${t} by claude`);
        expect(await repo.git('show', `main:src/${t}.txt`)).toBe(`${t} by claude`);
      }
      expect(await repo.git('rev-parse', 'main')).toBe(await repo.git('rev-parse', staging));
      // One squash commit per task, each touching only its task's file, landed in dependency order.
      for (const t of ['greet', 'farewell']) {
        const sha = await repo.git('log', '--format=%H', '-1', `--grep=^Orch-Task: ${t}$`, 'main');
        expect(await repo.git('log', '-1', '--format=%s', sha)).toMatch(new RegExp(`^${t}: `));
        expect(await repo.git('show', '--name-only', '--format=', sha)).toBe(`src/${t}.txt`);
      }
      expect(await landedTasks(repo.root, staging)).toEqual(['greet', 'farewell']);

      // The journal has both tasks merged, done by their status command, with the stream's figures.
      const status = await runOrch(['state', 'status', '--json'], { cwd: repo.root, env });
      expect(status.exitCode).toBe(0);
      const s = JSON.parse(status.stdout) as {
        outcome: string;
        tasks: { id: string; status: string; agent: string; usage: Record<string, number> }[];
        totals: Record<string, number>;
      };
      expect(s.outcome).toBe('succeeded');
      // Sonnet 4.5 list prices per million tokens: $3 input, $15 output, $0.30 cache read, $3.75 cache write.
      const cost = (1000 + 1100 + 1200) * 3 + (40 + 30 + 10) * 15 + (200 + 300 + 400) * 0.3 + 50 * 3.75;
      for (const t of s.tasks) {
        expect(t.status).toBe('merged');
        expect(t.agent).toBe('claude');
        expect(t.usage).toMatchObject({
          inputTokens: 3300,
          outputTokens: 80,
          cacheReadTokens: 900,
          cacheWriteTokens: 50,
          // The last turn's prompt: input plus cache read.
          contextTokens: 1600,
          contextWindow: 200_000,
        });
        expect(t.usage['costUsd']).toBeCloseTo(cost / 1e6, 8);
      }
      expect(s.totals['costUsd']).toBeCloseTo((2 * cost) / 1e6, 8);
      expect(s.totals['inputTokens']).toBe(6600);

      // The CLI got orch's worker instructions and the task prompt, and nothing else used a main turn.
      const main = world.stub.requests.filter((q) => q.kind === 'main');
      expect(main).toHaveLength(6);
      const firstGreet = JSON.stringify(main[0]?.body);
      expect(firstGreet).toContain('orch worker: one task, one worktree'); // roles/worker.md
      expect(firstGreet).toContain('orch task done');
      expect(firstGreet).toContain('src/greet.txt');
      expect(await repo.git('status', '--porcelain')).toBe('');
    },
    CLAUDE_RUN_MS,
  );

  it(
    'pauses a task at a rate limit and finishes it after the wait, without counting a failure',
    async () => {
      await writeFile(join(repo.root, '.claude-agents.yaml'), 'orchestration:\n  rate_limit_wait: 1\n');
      await writeFile(join(repo.root, 'greet.yaml'), GREET_PLAN);
      limitFirstRequest = true;
      const env = {
        ...world.env,
        // The CLI's own retries would hide the limit from orch for minutes.
        CLAUDE_CODE_MAX_RETRIES: '0',
      };
      const r = await runOrch(['run', 'greet.yaml', '--no-tui', '--yes'], {
        cwd: repo.root,
        env,
        timeoutMs: 240_000,
      });
      expect(r.exitCode).toBe(0);
      const events = await runEvents(repo.root);
      const greet = events.filter((e) => e.task === 'greet');
      expect(greet).toContainEqual(
        expect.objectContaining({ type: 'task.exited', rateLimit: expect.any(Object) }),
      );
      expect(greet).toContainEqual(
        expect.objectContaining({ type: 'task.blocked', reason: expect.stringMatching(/^rate limited/) }),
      );
      expect(greet).toContainEqual(
        expect.objectContaining({ type: 'task.unblocked', reason: 'limit reset' }),
      );
      // A limit is not the task's fault: no failure recorded, and it merged on its second attempt.
      expect(greet.filter((e) => e.type === 'task.failed')).toEqual([]);
      expect(greet.filter((e) => e.type === 'task.started').map((e) => e['attempt'])).toEqual([1, 2]);
      expect(await repo.git('show', 'main:src/greet.txt')).toBe('greet by claude');
    },
    CLAUDE_RUN_MS,
  );
});

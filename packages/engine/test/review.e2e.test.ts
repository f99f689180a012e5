/**
 * The reviewer and the verifier diagnosis, run headless through the claude adapter with the real
 * Claude Code CLI against the scripted API stub, on a real run (staging branch, integration
 * worktree, journal) prepared the way `orch run` prepares one.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitFilesOnto } from '@orch/git';
import {
  apiError,
  claudeBin,
  orchBin,
  startAnthropicStub,
  tempRepo,
  text,
  toolResults,
  toolUse,
  turn,
  type AnthropicStub,
  type StubAnswer,
  type StubRequest,
  type TempRepo,
} from '@orch/test-utils';
import { openRunContext, prepareRun, stagingBranch, type RunContext } from '../src/index.js';
import { diagnoseFailure, reviewRun } from '../src/review/index.js';
import { ensureTaskWorktree } from '../src/worker/launch.js';

const plan = (agent: string): string => `request: greet the user in src/greet.txt
tasks:
  - id: greet
    description: write src/greet.txt
    agent: ${agent}
    files_write: [src/greet.txt]
    run: echo hello > src/greet.txt
    verification:
      - command: test -s src/greet.txt
`;

type Message = { role: string; content: unknown };
const body = (req: StubRequest): string => JSON.stringify(req.body ?? {});
const step = (req: StubRequest): number =>
  ((req.body?.['messages'] ?? []) as Message[]).filter((m) => m.role === 'assistant').length;
const cwdOf = (req: StubRequest): string | undefined =>
  /Primary working directory: ([^\s"\\]+)/.exec(body(req))?.[1];
const toolNames = (req: StubRequest): string[] =>
  ((req.body?.['tools'] ?? []) as { name: string }[]).map((t) => t.name);

let repo: TempRepo;
let stub: AnthropicStub | undefined;
let configDir: string;
const savedEnv = { ...process.env };

/** Answers from `conversations[i]` for the i-th headless run, turn by turn. */
async function useStub(conversations: ((req: StubRequest) => StubAnswer)[][]): Promise<AnthropicStub> {
  let n = -1;
  stub = await startAnthropicStub({
    script: (req) => {
      if (step(req) === 0) n += 1;
      const turns = conversations[n] ?? [];
      const next = turns[step(req)] ?? (() => turn(text('(no more turns)')));
      return next(req);
    },
  });
  process.env['ANTHROPIC_BASE_URL'] = stub.url;
  return stub;
}

/** A run with `greet` done and merged onto staging (its file committed there). */
async function preparedRun(agent = 'claude'): Promise<RunContext> {
  await repo.write('tasks.yaml', plan(agent));
  await repo.commitAll('plan');
  const prepared = await prepareRun({ cwd: repo.root, planPath: 'tasks.yaml', approve: async () => true });
  const ctx = await openRunContext(prepared.repoRoot, prepared.run, orchBin());
  const { commit } = await commitFilesOnto(ctx.repo, {
    branch: stagingBranch(prepared.run),
    files: [{ path: 'src/greet.txt', content: 'hello, REVIEW-MARKER\n' }],
    message: 'greet: add src/greet.txt',
    expectedOld: prepared.stagingCommit,
  });
  // Journaled like every staging tip orch writes (the review reads the journaled, guarded tip).
  await ctx.journal.append({
    type: 'staging.moved',
    from: prepared.stagingCommit,
    to: commit,
    reason: 'merge greet',
  });
  return openRunContext(prepared.repoRoot, prepared.run, orchBin());
}

beforeEach(async () => {
  repo = await tempRepo({ 'README.md': '# demo\n' });
  configDir = await mkdtemp(join(tmpdir(), 'orch-claude-config-'));
  Object.assign(process.env, {
    PATH: `${dirname(claudeBin())}:${savedEnv['PATH'] ?? ''}`,
    ANTHROPIC_API_KEY: 'test',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CONFIG_DIR: configDir,
  });
});
afterEach(async () => {
  await stub?.close();
  stub = undefined;
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
  await repo.cleanup();
  await rm(configDir, { recursive: true, force: true });
});

describe('reviewRun', () => {
  it('accepts: the reviewer reads request, plan and diff at the staging tip', async () => {
    const ctx = await preparedRun();
    const s = await useStub([
      [() => turn(text('```json\n{ "verdict": "accept", "summary": "greets as asked" }\n```'))],
    ]);
    const out = await reviewRun(ctx, 1);
    expect(out).toEqual({ verdict: 'accept', summary: 'greets as asked' });

    const main = s.requests.filter((r) => r.kind === 'main');
    expect(main).toHaveLength(1);
    const sent = body(main[0]!);
    expect(sent).toContain('greet the user in src/greet.txt'); // the request
    expect(sent).toContain('files_write: [src/greet.txt]'); // the plan
    expect(sent).toContain('+hello, REVIEW-MARKER'); // the diff base..staging
    expect(sent).toContain('orch reviewer'); // roles/reviewer.md as system prompt
    expect(sent).not.toContain('name: reviewer'); // without its front matter
    // It runs in orch's integration worktree, checked out at the staging tip, and cannot edit.
    const cwd = cwdOf(main[0]!);
    expect(cwd).toMatch(/\.worktrees\/_integration-/);
    expect(await readFile(join(cwd!, 'src/greet.txt'), 'utf8')).toBe('hello, REVIEW-MARKER\n');
    expect(toolNames(main[0]!)).not.toContain('Write');
    expect(toolNames(main[0]!)).not.toContain('Edit');
    const report = JSON.parse(await readFile(join(ctx.paths.reports, 'review-1.json'), 'utf8')) as {
      outcome: unknown;
    };
    expect(report.outcome).toEqual(out);
  });

  it('iterates: new tasks are validated and returned normalized; a write attempt is refused', async () => {
    const ctx = await preparedRun();
    let checkout = '';
    const s = await useStub([
      [
        (req) => {
          checkout = cwdOf(req) ?? '';
          return turn(
            toolUse('Read', { file_path: join(checkout, 'src/greet.txt') }),
            toolUse('Bash', {
              command: `echo pwned > ${join(checkout, 'src/evil.txt')}`,
              description: 'write',
            }),
          );
        },
        () =>
          turn(
            text(
              JSON.stringify({
                verdict: 'iterate',
                summary: 'no farewell',
                tasks: [
                  {
                    id: 'farewell',
                    description: 'say goodbye in src/farewell.txt',
                    files_write: ['./src/farewell.txt'],
                    verification: [{ command: 'test -s src/farewell.txt', type: 'test' }],
                  },
                  {
                    // Rewrites a file an old task wrote: not a conflict, the old task is merged.
                    id: 'polish',
                    files_write: ['src/greet.txt'],
                    depends_on: ['greet'],
                    verification: [{ command: 'grep -q hello src/greet.txt' }],
                  },
                ],
              }),
            ),
          ),
      ],
    ]);
    const out = await reviewRun(ctx, 2);
    expect(out.verdict).toBe('iterate');
    if (out.verdict !== 'iterate') return;
    expect(out.summary).toBe('no farewell');
    expect(out.tasks.map((t) => t.id)).toEqual(['farewell', 'polish']);
    // Normalized by the plan schema: paths cleaned, defaults filled in.
    expect(out.tasks[0]).toMatchObject({ files_write: ['src/farewell.txt'], depends_on: [], files_read: [] });
    expect(out.tasks[1]?.verification[0]).toMatchObject({ type: 'check', required: true });

    // The read came back; the shell write was refused (not in the reviewer's tools) and left nothing.
    const second = s.requests.filter((r) => r.kind === 'main')[1]!;
    const results = toolResults(second);
    expect(String(JSON.stringify(results[0]?.content))).toContain('REVIEW-MARKER');
    expect(results[1]?.is_error).toBe(true);
    expect(JSON.stringify(results[1]?.content)).toMatch(/approv|permission/i);
    expect(toolNames(second)).not.toContain('Write');
    expect(existsSync(join(checkout, 'src/evil.txt'))).toBe(false);
  });

  it('feeds a malformed answer back once and uses the corrected one', async () => {
    const ctx = await preparedRun();
    const s = await useStub([
      [() => turn(text('Looks good to me overall.'))],
      [() => turn(text('{"verdict": "accept"}'))],
    ]);
    expect(await reviewRun(ctx, 1)).toEqual({ verdict: 'accept' });
    const main = s.requests.filter((r) => r.kind === 'main');
    expect(main).toHaveLength(2);
    const retry = body(main[1]!);
    expect(retry).toContain('Your previous answer was rejected');
    expect(retry).toContain('no JSON object');
    expect(retry).toContain('Looks good to me overall.');
  });

  it('skips after two unusable answers: an id clash, then tasks that conflict', async () => {
    const ctx = await preparedRun();
    const t = (id: string, file: string) => ({
      id,
      files_write: [file],
      verification: [{ command: 'true' }],
    });
    const s = await useStub([
      [() => turn(text(JSON.stringify({ verdict: 'iterate', tasks: [t('greet', 'src/x.txt')] })))],
      [
        () =>
          turn(
            text(JSON.stringify({ verdict: 'iterate', tasks: [t('a', 'src/x.txt'), t('b', 'src/x.txt')] })),
          ),
      ],
    ]);
    const out = await reviewRun(ctx, 1);
    expect(out.verdict).toBe('skipped');
    if (out.verdict !== 'skipped') return;
    expect(out.reason).toMatch(/plan check/);
    expect(out.reason).toContain('src/x.txt');
    const main = s.requests.filter((r) => r.kind === 'main');
    expect(body(main[1]!)).toContain('task id(s) already in the plan: greet');
  });

  it('skips when Claude Code is not installed, and past the iteration limit without running it', async () => {
    const ctx = await preparedRun();
    const s = await useStub([]);
    expect(await reviewRun(ctx, 4)).toEqual({
      verdict: 'skipped',
      reason: 'the run already had 3 review iteration(s)',
    });
    process.env['PATH'] = savedEnv['PATH'] ?? '';
    const out = await reviewRun(ctx, 1);
    expect(out.verdict).toBe('skipped');
    if (out.verdict === 'skipped') expect(out.reason).toMatch(/cannot start claude/);
    expect(s.requests.filter((r) => r.kind === 'main')).toHaveLength(0);
  });
});

const REPORT = JSON.stringify({
  task: 'greet',
  ok: false,
  categories: ['test_failed'],
  commands: [{ command: 'test -s src/greet.txt', exitCode: 1, tail: 'VERIFY-TAIL-MARKER' }],
});

describe('diagnoseFailure', () => {
  it("returns the verifier's diagnosis, written from the report in the task's worktree", async () => {
    const ctx = await preparedRun();
    const worktree = await ensureTaskWorktree(ctx, 'greet');
    const diagnosis =
      'Category: logic_error\nCause: src/greet.txt is empty\nWhere: src/greet.txt\nFix:\n- write it';
    const s = await useStub([[() => turn(text(`${diagnosis}\n`))]]);
    expect(await diagnoseFailure(ctx, 'greet', REPORT)).toBe(diagnosis);
    const main = s.requests.filter((r) => r.kind === 'main');
    expect(main).toHaveLength(1);
    const sent = body(main[0]!);
    expect(sent).toContain('VERIFY-TAIL-MARKER');
    expect(sent).toContain('orch verifier'); // roles/verifier.md
    expect(cwdOf(main[0]!)).toBe(worktree);
    expect(toolNames(main[0]!)).not.toContain('Bash');
  });

  it('returns undefined, without blocking, when the verifier fails or is missing', async () => {
    const ctx = await preparedRun();
    process.env['CLAUDE_CODE_MAX_RETRIES'] = '0';
    await useStub([[() => apiError(500, 'api_error', 'Internal server error')]]);
    expect(await diagnoseFailure(ctx, 'greet', REPORT)).toBeUndefined();
    process.env['PATH'] = savedEnv['PATH'] ?? '';
    expect(await diagnoseFailure(ctx, 'greet', REPORT)).toBeUndefined();
  });

  it('returns undefined when the run has no claude workers, without calling any model', async () => {
    const ctx = await preparedRun('shell');
    const s = await useStub([[() => turn(text('should not be asked'))]]);
    expect(await diagnoseFailure(ctx, 'greet', REPORT)).toBeUndefined();
    expect(s.requests).toHaveLength(0);
  });
});

/**
 * `orch plan "<request>"` end to end: the built orch binary runs the real Claude Code CLI (the
 * devDependency of @orch/test-utils) against the scripted Anthropic API stub. Round 1 writes a plan
 * with a write conflict; orch sends the problems back; round 2 writes a valid plan.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { schemaModeline } from '@orch/core';
import {
  claudeBin,
  startAnthropicStub,
  tempRepo,
  text,
  toolUse,
  turn,
  type AnthropicStub,
  type StubRequest,
  type TempRepo,
} from '@orch/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderRepoSummary, reportErrors, resolveOutput, summarizeRepo } from '@orch/engine';
import { VERSION } from '../src/version.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

const CONFLICTING = `request: add a greeter
tasks:
  - id: greeter
    description: greet() in src/greet.js with a test
    files_write: [src/greet.js, test/greet.test.js]
    verification:
      - { command: "node --test test/greet.test.js", type: test }
  - id: cli
    description: a CLI that prints greet()
    files_write: [src/greet.js, bin/cli.js]
    verification:
      - { command: "node bin/cli.js", type: test }
`;

const VALID = `request: add a greeter
tasks:
  - id: greeter
    description: greet() in src/greet.js with a test
    files_write: [src/greet.js, test/greet.test.js]
    verification:
      - { command: "node --test test/greet.test.js", type: test }
  - id: cli
    description: a CLI that prints greet()
    files_write: [bin/cli.js, test/cli.test.js]
    depends_on: [greeter]
    verification:
      - { command: "node --test test/cli.test.js", type: test }
`;

/** The user message the CLI sent in a main request (the prompt orch wrote). */
function promptOf(req: StubRequest | undefined): string {
  const messages = (req?.body?.['messages'] ?? []) as { role: string; content: unknown }[];
  return JSON.stringify(messages.find((m) => m.role === 'user')?.content ?? '');
}

let repo: TempRepo;
let scratch: string;
let stub: AnthropicStub | undefined;

beforeEach(async () => {
  repo = await tempRepo({
    'README.md': '# greeter\n',
    'package.json': JSON.stringify({ name: 'greeter', scripts: { test: 'node --test' } }),
    'src/index.js': 'export {};\n',
  });
  scratch = await mkdtemp(join(tmpdir(), 'orch-plan-test-'));
});
afterEach(async () => {
  await stub?.close();
  stub = undefined;
  await repo.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

function orchPlan(args: string[]) {
  return execa(process.execPath, [bin, 'plan', ...args], {
    cwd: repo.root,
    env: {
      ...process.env,
      PATH: `${dirname(claudeBin())}:${process.env.PATH ?? ''}`,
      HOME: scratch,
      ANTHROPIC_BASE_URL: stub!.url,
      ANTHROPIC_API_KEY: 'sk-orch-test',
      CLAUDE_CONFIG_DIR: join(scratch, 'claude'),
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    },
    extendEnv: false,
    reject: false,
    timeout: 180_000,
  });
}

describe('orch plan "<request>" with the real Claude Code CLI', () => {
  it('feeds the checker errors of round 1 back and accepts the corrected plan of round 2', async () => {
    const plan = join(repo.root, 'tasks.yaml');
    stub = await startAnthropicStub({
      script: [
        turn(toolUse('Write', { file_path: plan, content: CONFLICTING })),
        turn(text('Plan written.')),
        turn(toolUse('Write', { file_path: plan, content: VALID })),
        turn(text('Plan fixed.')),
      ],
    });
    const r = await orchPlan(['add a greeter with a CLI', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      rounds: { round: number; errors: string[] }[];
      tasks: { id: string }[];
      waves: string[][];
      risk: { score: number };
    };
    expect(out.ok).toBe(true);
    expect(out.rounds.map((x) => x.round)).toEqual([1, 2]);
    expect(out.rounds[0]!.errors.join('\n')).toContain('src/greet.js');
    expect(out.rounds[1]!.errors).toEqual([]);
    expect(out.tasks.map((t) => t.id)).toEqual(['greeter', 'cli']);
    expect(out.waves).toEqual([['greeter'], ['cli']]);
    // The accepted plan, with the line that points editors at its JSON Schema.
    expect(await readFile(plan, 'utf8')).toBe(`${schemaModeline('plan', VERSION)}\n${VALID}`);

    // What the planner was told: the request, the repository summary, its system prompt, and in
    // round 2 the checker's problems with the rejected plan.
    const main = stub.requests.filter((q) => q.kind === 'main');
    expect(main).toHaveLength(4);
    const first = promptOf(main[0]);
    expect(first).toContain('add a greeter with a CLI');
    expect(first).toContain('npm run test');
    expect(first).toContain('tasks.yaml');
    expect(JSON.stringify(main[0]?.body?.['system'])).toContain('orch planner-architect');
    expect(promptOf(main[0])).not.toContain('fix the plan');
    const second = promptOf(main[2]);
    expect(second).toContain('Round 2 of 3');
    expect(second).toContain('src/greet.js');
    expect(second).toContain('id: cli');
  });

  it('exits 1 with the last problems when no round produces a valid plan', async () => {
    const plan = join(repo.root, 'tasks.yaml');
    stub = await startAnthropicStub({
      script: (_req, n) =>
        n % 2 === 0 ? turn(toolUse('Write', { file_path: plan, content: CONFLICTING })) : turn(text('Done.')),
    });
    const r = await orchPlan(['add a greeter', '-o', 'tasks.yaml']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('ERR_ORCH_PLAN_NOT_VALID');
    expect(r.stderr).toContain('3 rounds');
    expect(stub.requests.filter((q) => q.kind === 'main')).toHaveLength(6);
    // The last rejected plan stays for the user to fix by hand.
    expect(await readFile(plan, 'utf8')).toBe(CONFLICTING);
  });
});

const RISKY = `request: take payments
tasks:
  - id: payments
    description: charge cards
    files_write: [src/payment.js, src/auth.js]
    verification:
      - { command: "node --test", type: test }
`;

describe('orch plan approval', () => {
  it('writes a plan that needs approval, exits 3 without --yes and 0 with it', async () => {
    const plan = join(repo.root, 'tasks.yaml');
    const script = [turn(toolUse('Write', { file_path: plan, content: RISKY })), turn(text('Done.'))];
    stub = await startAnthropicStub({ script });
    const asked = await orchPlan(['take payments']);
    expect(asked.exitCode, asked.stderr).toBe(3);
    expect(asked.stdout).toContain('1 task in 1 wave');
    expect(asked.stdout).toContain('Needs approval');
    expect(asked.stdout).toMatch(/sensitive_path/);
    expect(await readFile(plan, 'utf8')).toBe(`${schemaModeline('plan', VERSION)}\n${RISKY}`);
    await stub.close();

    await rm(plan);
    stub = await startAnthropicStub({ script });
    const yes = await orchPlan(['take payments', '--yes', '--json']);
    expect(yes.exitCode, yes.stderr).toBe(0);
    expect(JSON.parse(yes.stdout)).toMatchObject({ needsApproval: true, exitCode: 0 });
  });
});

describe('planner helpers', () => {
  it('summarizes the repository: files, languages, commands, contracts', async () => {
    await repo.write('contracts/Greeter.ts', 'export interface Greeter {}\n');
    await repo.write('Makefile', 'build:\n\techo build\n');
    await repo.commitAll('more');
    const s = await summarizeRepo(repo.root);
    expect(s.tree).toEqual(['Makefile', 'README.md', 'contracts/Greeter.ts', 'package.json', 'src/index.js']);
    expect(s.languages).toEqual([
      { language: 'JavaScript', files: 1 },
      { language: 'Markdown', files: 1 },
      { language: 'TypeScript', files: 1 },
    ]);
    expect(s.commands.map((c) => c.command)).toEqual(['npm run test', 'make build']);
    expect(s.contracts).toEqual(['contracts/Greeter.ts']);
    expect(renderRepoSummary(s)).toContain('- test: `npm run test`');
  });

  it('summarizes a large tree by directory', async () => {
    for (let i = 0; i < 210; i++) await repo.write(`lib/gen/f${i}.py`, '\n');
    await repo.commitAll('many');
    const s = await summarizeRepo(repo.root);
    expect(s.treeTruncated).toBe(true);
    expect(s.tree).toContain('lib/gen/ (210 files)');
    expect(s.commands.map((c) => c.command)).toEqual(['npm run test']);
  });

  it('keeps the output inside the repository', () => {
    expect(resolveOutput('/r', 'plans/tasks.yaml', '/r')).toBe('/r/plans/tasks.yaml');
    expect(() => resolveOutput('/r', '../elsewhere.yaml', '/r')).toThrow(/outside the repository/);
    expect(() => resolveOutput('/r', '/etc/tasks.yaml', '/r')).toThrow(/outside the repository/);
  });

  it('lists conflicts as problems', () => {
    const errors = reportErrors({
      dag: { errors: ['a depends on unknown task x'] },
      conflicts: {
        conflicts: [
          {
            type: 'file_write_write',
            target: 'f',
            tasks: ['a', 'b'],
            detail: 'both write f.',
            suggestion: 'order them',
          },
        ],
      },
      contracts: { errors: [], contracts: [] },
    } as never);
    expect(errors).toEqual([
      'a depends on unknown task x',
      'file_write_write conflict on f between a, b: both write f; fix: order them',
    ]);
  });
});

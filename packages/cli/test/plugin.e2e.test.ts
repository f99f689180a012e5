/**
 * The Claude Code plugin as users get it: the `orch` package folder (`packages/orch`, built by
 * `build.mjs`) passes the real CLI's validation, strict and with the plugin directory's submission
 * profile; and, loaded into the real CLI against the scripted API stub under
 * `--permission-mode dontAsk`, `/orchestrate` may run the Bash steps it prescribes with the plugin's
 * own `orch` on PATH, and nothing it does not allow.
 */
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claudeBin,
  isolatedTmux,
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

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const pkg = join(repoRoot, 'packages', 'orch');

async function claude(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = await execa(claudeBin(), args, {
    cwd: opts.cwd ?? repoRoot,
    env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', NO_COLOR: '1', ...opts.env },
    reject: false,
    timeout: 180_000,
    stdin: 'ignore',
  });
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
}

beforeAll(async () => {
  // The package folder is the plugin: the bundle, bin/orch, agents, roles, skill, manifest, LICENSE.
  // Under `pnpm test` the test command built it just before this set, and the other e2e files run
  // that bundle meanwhile: building it again here would rewrite files they are loading.
  if (process.env.ORCH_TEST_BUNDLE === '1') return;
  const built = await execa(process.execPath, [join(pkg, 'build.mjs')], { cwd: repoRoot, reject: false });
  expect(built.exitCode, built.stderr).toBe(0);
}, 120_000);

describe('the orch plugin passes the real Claude Code validation', () => {
  let configDir: string;
  beforeAll(async () => {
    configDir = await mkdtemp(join(tmpdir(), 'orch-claude-config-'));
  });
  afterAll(async () => {
    await rm(configDir, { recursive: true, force: true });
  });

  it.each([
    ['the package (the plugin users install)', pkg],
    ['the repository (its marketplace and the working copy as a plugin)', repoRoot],
  ])(
    '%s: --strict, and the directory-submission profile',
    async (_label, dir) => {
      const env = { CLAUDE_CONFIG_DIR: configDir };
      const strict = await claude(['plugin', 'validate', '--strict', dir], { env });
      expect(strict.exitCode, strict.stdout + strict.stderr).toBe(0);
      const profile = await claude(
        ['plugin', 'validate', '--strict', '--profile', 'directory', '--json', dir],
        {
          env,
        },
      );
      expect(profile.exitCode, profile.stdout + profile.stderr).toBe(0);
      const report = JSON.parse(profile.stdout) as {
        success: boolean;
        provides: { agents: string[]; skills: string[]; bin: string[] };
        directory: { findings: unknown[] };
      };
      expect(report.success).toBe(true);
      expect(report.directory.findings).toEqual([]);
      // Only the user-facing agents are offered; the engine's own are not subagents.
      expect(report.provides.agents.sort()).toEqual(['orch:planner-architect', 'orch:supervisor']);
      expect(report.provides.skills).toEqual(['orch:orchestrate']);
      expect(report.provides.bin).toEqual(['orch']);
    },
    180_000,
  );

  it('bin/orch in a working copy runs its build, and says what to do where there is none', async () => {
    const version = (JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as { version: string })
      .version;
    const r = await execa(join(repoRoot, 'bin', 'orch'), ['--version'], { cwd: tmpdir(), reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);

    const bare = await mkdtemp(join(tmpdir(), 'orch-plugin-'));
    try {
      await mkdir(join(bare, 'bin'));
      await copyFile(join(repoRoot, 'bin', 'orch'), join(bare, 'bin', 'orch'));
      await chmod(join(bare, 'bin', 'orch'), 0o755);
      const missing = await execa(join(bare, 'bin', 'orch'), ['--version'], { reject: false });
      expect(missing.exitCode).toBe(127);
      expect(missing.stderr).toContain(`the orch CLI is not built in ${await realpath(bare)}`);
      expect(missing.stderr).toContain('/plugin install orch@orch');
    } finally {
      await rm(bare, { recursive: true, force: true });
    }
  }, 120_000);

  it("the package's bin/orch runs the bundled CLI", async () => {
    const version = (JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as { version: string })
      .version;
    const r = await execa(join(pkg, 'bin', 'orch'), ['--version'], { cwd: tmpdir(), reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  }, 120_000);
});

/** A `shell` task that writes its file and reports done. */
function task(id: string): string {
  return `
  - id: ${id}
    description: write src/${id}.txt
    agent: shell
    files_write: [src/${id}.txt]
    verification:
      - command: test -s src/${id}.txt
        type: check
    run: |
      mkdir -p src && echo ${id} > src/${id}.txt
      git add -A && git commit -qm "${id}"
      orch task done --summary "${id} done"`;
}
const PLAN = `request: write two greetings\ntasks:${task('hello')}${task('hi')}\n`;

/** The text of a tool result's content (a string or text blocks). */
function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((b: { text?: string }) => b.text ?? '').join('');
  return JSON.stringify(content);
}

type Results = Map<string, { text: string; isError: boolean }>;

interface Step {
  name: string;
  /** Given what the earlier steps got back. */
  command: (earlier: Results) => string;
  /** The Bash tool's own time limit for the call, in ms. */
  timeout?: number;
}

describe('/orchestrate under --permission-mode dontAsk', () => {
  let repo: TempRepo;
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;
  let configDir: string;
  let pathDir: string;

  beforeAll(async () => {
    repo = await tempRepo({ 'README.md': '# greetings\n', 'tasks.yaml': PLAN });
    tmux = await isolatedTmux();
    configDir = await mkdtemp(join(tmpdir(), 'orch-claude-config-'));
    // A PATH with node, git and tmux but no orch: the only orch the Bash tool can find is the plugin's.
    pathDir = await mkdtemp(join(tmpdir(), 'orch-path-'));
    await symlink(process.execPath, join(pathDir, 'node'));
  });
  afterAll(async () => {
    await tmux.cleanup();
    await repo.cleanup();
    await rm(configDir, { recursive: true, force: true });
    await rm(pathDir, { recursive: true, force: true });
  });

  /**
   * One headless Claude Code conversation with the plugin loaded, whose model (the stub) makes one
   * Bash call per step; returns what each call got back, and the requests the stub saw.
   */
  async function converse(prompt: string, steps: Step[]): Promise<{ results: Results; stub: AnthropicStub }> {
    const results: Results = new Map();
    const script = (req: StubRequest, n: number): StubAnswer => {
      const previous = toolResults(req)[0];
      if (n > 0 && previous) {
        results.set(steps[n - 1]!.name, {
          text: resultText(previous.content),
          isError: previous.is_error === true,
        });
      }
      const step = steps[n];
      if (!step) return turn(text('Done.'));
      return turn(
        toolUse('Bash', {
          command: step.command(results),
          description: `orchestrate: ${step.name}`,
          ...(step.timeout ? { timeout: step.timeout } : {}),
        }),
      );
    };
    const stub = await startAnthropicStub({ script });
    try {
      const r = await claude(
        ['-p', prompt, '--plugin-dir', pkg, '--permission-mode', 'dontAsk', '--output-format', 'json'],
        {
          cwd: repo.root,
          env: {
            ...tmux.env,
            PATH: `${pathDir}:/usr/local/bin:/usr/bin:/bin`,
            HOME: configDir,
            CLAUDE_CONFIG_DIR: configDir,
            ANTHROPIC_BASE_URL: stub.url,
            ANTHROPIC_API_KEY: 'test',
          },
        },
      );
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    } finally {
      await stub.close();
    }
    return { results, stub };
  }

  it('without the skill, the same orch command is denied (nothing else grants it)', async () => {
    const { results } = await converse('check the plan', [
      { name: 'check', command: () => 'orch plan check tasks.yaml' },
    ]);
    expect(results.get('check')?.isError).toBe(true);
    expect(results.get('check')?.text).toMatch(/permission|denied|not allowed/i);
  }, 300_000);

  it('runs the Bash steps the skill prescribes with the plugin’s orch, and is denied what it does not allow', async () => {
    let runId = '';
    const { results, stub } = await converse('/orch:orchestrate write two greetings', [
      { name: 'check', command: () => 'orch plan check tasks.yaml' },
      // Not in the skill's allowed-tools (and not read-only): dontAsk must deny it.
      { name: 'outside', command: () => 'touch outside.txt' },
      { name: 'run', command: () => 'orch run tasks.yaml --detach --yes --json' },
      {
        name: 'wait',
        command: (earlier) => {
          runId = /"run"\s*:\s*"([^"]+)"/.exec(earlier.get('run')?.text ?? '')?.[1] ?? '';
          return `orch wait --run ${runId} --timeout 240 --json`;
        },
        timeout: 270_000,
      },
      { name: 'report', command: () => `orch state status --run ${runId} --json` },
    ]);
    // The skill's text reached the model: the slash command expanded the plugin's skill.
    expect(JSON.stringify(stub.requests.filter((q) => q.kind === 'main').map((q) => q.body))).toContain(
      'Wait in steps under 5 minutes',
    );

    const check = results.get('check');
    expect(check?.isError, check?.text).toBe(false);
    expect(check?.text).toMatch(/valid/i);

    const outside = results.get('outside');
    expect(outside?.isError).toBe(true);
    expect(outside?.text).toMatch(/permission|denied|not allowed/i);
    expect(existsSync(join(repo.root, 'outside.txt'))).toBe(false);

    expect(results.get('run')?.isError, results.get('run')?.text).toBe(false);
    expect(runId).toMatch(/^\d{8}-\d{6}-[0-9a-f]+$/);

    // The small answer of orch wait, in the foreground (a backgrounded call would return no JSON).
    const wait = results.get('wait');
    expect(wait?.isError, wait?.text).toBe(false);
    const waited = JSON.parse(wait!.text.trim()) as {
      run: string;
      outcome: string;
      counts: Record<string, number>;
    };
    expect(waited).toMatchObject({ run: runId, outcome: 'succeeded' });
    expect(waited.counts['merged']).toBe(2);

    const report = results.get('report');
    expect(report?.isError, report?.text).toBe(false);
    const status = JSON.parse(report!.text.trim()) as { tasks: { id: string; status: string }[] };
    expect(status.tasks.map((t) => [t.id, t.status]).sort()).toEqual([
      ['hello', 'merged'],
      ['hi', 'merged'],
    ]);
    expect(await repo.git('show', 'main:src/hello.txt')).toBe('hello');
  }, 300_000);
});

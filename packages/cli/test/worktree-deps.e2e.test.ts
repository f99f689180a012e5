import { readFile, realpath } from 'node:fs/promises';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentRun, isolatedTmux, runEvents, runOrch, tempRepo, type TempRepo } from '@orch/test-utils';

/**
 * A workspace project: `node_modules/lib` is npm's link to `../packages/lib`, so Node resolves
 * `require('lib')` through the real path of the node_modules it finds. In the checkout `lib`
 * returns 1; the task makes it return 2 and its test expects 2, which passes only when the
 * worktree's test imports the worktree's code.
 */
const PLAN = `request: lib returns 2, then 3
tasks:
  - id: two
    description: make lib return 2
    agent: shell
    files_write: [packages/lib/src/index.js, test/lib.test.js]
    verification:
      - command: node --test
        type: test
    run: |
      echo 'exports.value = () => 2;' > packages/lib/src/index.js
      sed -i 's/, 1)/, 2)/' test/lib.test.js
      echo "lib resolves to $(node -p "require.resolve('lib')")"
      git add -A && git commit -qm "lib returns 2"
      orch task done --summary "lib returns 2"
  - id: three
    description: make lib return 3
    agent: shell
    depends_on: [two]
    files_write: [packages/lib/src/index.js, test/lib.test.js]
    verification:
      - command: node --test
        type: test
    run: |
      echo 'exports.value = () => 3;' > packages/lib/src/index.js
      sed -i 's/, 2)/, 3)/' test/lib.test.js
      echo "lib resolves to $(node -p "require.resolve('lib')")"
      git add -A && git commit -qm "lib returns 3"
      orch task done --summary "lib returns 3"
`;

const TEST = `const test = require('node:test');
const assert = require('node:assert');
test('lib', () => assert.strictEqual(require('lib').value(), 1));
`;

async function nodeProject(config?: string): Promise<TempRepo> {
  const repo = await tempRepo({
    'package.json': `${JSON.stringify(
      {
        name: 'app',
        version: '1.0.0',
        private: true,
        workspaces: ['packages/lib'],
        scripts: { test: 'node --test' },
      },
      null,
      2,
    )}\n`,
    'packages/lib/package.json': '{ "name": "lib", "version": "1.0.0", "main": "src/index.js" }\n',
    'packages/lib/src/index.js': 'exports.value = () => 1;\n',
    'test/lib.test.js': TEST,
    '.gitignore': 'node_modules/\n',
    'tasks.yaml': PLAN,
    ...(config ? { '.claude-agents.yaml': config } : {}),
  });
  // Only a workspace package: the install needs no registry.
  await execa('npm', ['install', '--offline', '--no-audit', '--no-fund'], { cwd: repo.root });
  await repo.commitAll('lockfile');
  await execa('node', ['--test'], { cwd: repo.root }); // the checkout's own suite passes
  return repo;
}

async function workerLog(root: string, task: string): Promise<string> {
  const started = (await runEvents(root)).find((e) => e.type === 'task.started' && e.task === task);
  return readFile(String(started?.logPath), 'utf8');
}

describe('worktrees test their own code', () => {
  let repo: TempRepo | undefined;
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;

  beforeEach(async () => {
    tmux = await isolatedTmux();
  });
  afterEach(async () => {
    await tmux.cleanup();
    await repo?.cleanup();
    repo = undefined;
  });

  it("gives each worktree its own node_modules, so each task's test imports its worktree's source", async () => {
    repo = await nodeProject();
    const r = await runOrch(['run', 'tasks.yaml', '--no-tui', '--yes'], {
      cwd: repo.root,
      env: tmux.env,
      timeoutMs: 180_000,
    });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const run = await currentRun(repo.root);
    const log = await workerLog(repo.root, 'two');
    expect(log).toMatch(/\[orch bootstrap\] node_modules: copied from the checkout \(the lockfiles match\)/);
    expect(log).toMatch(/lib resolves to \S*\/\.worktrees\/two\/packages\/lib\/src\/index\.js/);
    // The second task's worktree (new, or the first one's recycled) imports its own code too.
    expect(await workerLog(repo.root, 'three')).toMatch(
      /lib resolves to \S*\/\.worktrees\/three\/packages\/lib\/src\/index\.js/,
    );
    // Verified in its worktree, checked again on staging, promoted; the checkout's own tree is the result.
    expect(await repo.git('show', `orch/${run}/staging:packages/lib/src/index.js`)).toBe(
      'exports.value = () => 3;',
    );
    expect(await repo.git('rev-parse', 'main')).toBe(await repo.git('rev-parse', `orch/${run}/staging`));
    expect((await execa('node', ['--test'], { cwd: repo.root, reject: false })).exitCode).toBe(0);
  });

  it("without it (install: off) the worktree's test walks up to the checkout's node_modules and fails", async () => {
    repo = await nodeProject('orchestration:\n  max_retries: 0\nworktree:\n  install: "off"\n');
    const r = await runOrch(['run', 'tasks.yaml', '--no-tui', '--yes'], {
      cwd: repo.root,
      env: tmux.env,
      timeoutMs: 180_000,
    });
    expect(r.exitCode).not.toBe(0);
    const log = await workerLog(repo.root, 'two');
    expect(log).not.toMatch(/\[orch bootstrap\]/);
    expect(log).toContain(`lib resolves to ${await realpath(repo.root)}/packages/lib/src/index.js`);
    const failed = (await runEvents(repo.root)).find((e) => e.type === 'task.failed' && e.task === 'two');
    expect(failed).toMatchObject({ category: 'test_failed', reason: expect.stringContaining('node --test') });
    expect(await repo.git('show', 'main:packages/lib/src/index.js')).toBe('exports.value = () => 1;');
  });
});

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isolatedTmux, runOrch, spawnOrch, tempRepo, type TempRepo } from '@orch/test-utils';

async function until<T>(fn: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('dependency requests through a real run', () => {
  let repo: TempRepo;
  let pkgDir: string;
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;

  beforeEach(async () => {
    pkgDir = await mkdtemp(join(tmpdir(), 'orch-pkg-'));
    await mkdir(join(pkgDir, 'leftpad'));
    await writeFile(
      join(pkgDir, 'leftpad', 'package.json'),
      '{"name":"leftpad","version":"1.0.0","main":"index.js"}\n',
    );
    await writeFile(
      join(pkgDir, 'leftpad', 'index.js'),
      'module.exports = (s, n) => String(s).padStart(n);\n',
    );
    const spec = `file:${join(pkgDir, 'leftpad')}`;
    const plan = `request: a task that needs a package
tasks:
  - id: pad
    agent: shell
    files_write: [src/pad.txt]
    verification: [{ command: "test -s src/pad.txt" }]
    run: |
      if ! grep -q leftpad package.json; then
        orch task block --needs "${spec}" --reason "I need leftpad"
        exit 0
      fi
      mkdir -p src && echo padded > src/pad.txt
      git add -A && git commit -qm pad && orch task done --summary "used leftpad"
`;
    repo = await tempRepo({
      'package.json': '{"name":"app","version":"1.0.0","private":true}\n',
      'package-lock.json':
        '{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","version":"1.0.0"}}}\n',
      '.gitignore': 'node_modules/\n',
      'tasks.yaml': plan,
    });
    tmux = await isolatedTmux();
  });
  afterEach(async () => {
    await tmux.cleanup();
    await repo.cleanup();
    await rm(pkgDir, { recursive: true, force: true });
  });

  it('blocks the worker, lists the request, installs it on staging when approved, and finishes', async () => {
    const run = spawnOrch(['run', 'tasks.yaml', '--no-tui', '--yes'], { cwd: repo.root, env: tmux.env });
    const listed = await until(async () => {
      const r = await runOrch(['deps', 'list', '--json'], { cwd: repo.root, env: tmux.env });
      const j =
        r.exitCode === 0
          ? (JSON.parse(r.stdout) as { requests: { task: string; spec: string }[] })
          : undefined;
      return j && j.requests.length > 0 ? j : undefined;
    }, 'the dependency request');
    expect(listed.requests).toEqual([
      { task: 'pad', spec: expect.stringContaining('leftpad'), reason: expect.any(String) },
    ]);
    const approve = await runOrch(['deps', 'approve', 'pad'], {
      cwd: repo.root,
      env: tmux.env,
      timeoutMs: 120_000,
    });
    expect(approve.stderr).toBe('');
    expect(approve.exitCode).toBe(0);
    const done = await run;
    expect(done.exitCode).toBe(0);
    // The lockfile changed only through orch, on staging, and the task was merged after it.
    const pkg = JSON.parse(await repo.git('show', 'main:package.json')) as {
      dependencies?: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies ?? {})).toEqual(['leftpad']);
    expect(await repo.git('show', 'main:src/pad.txt')).toBe('padded');
    const status = JSON.parse(
      (await runOrch(['state', 'status', '--json'], { cwd: repo.root, env: tmux.env })).stdout,
    ) as {
      tasks: { id: string; status: string; attempt: number }[];
    };
    expect(status.tasks).toEqual([expect.objectContaining({ id: 'pad', status: 'merged', attempt: 2 })]);
  });

  it('asks for a task or --all instead of guessing', async () => {
    const r = await runOrch(['deps', 'approve'], { cwd: repo.root, env: tmux.env });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/Name the task/);
  });
});

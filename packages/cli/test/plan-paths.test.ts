/** Where `orch plan check` finds the plan, and what it says about a plan it cannot use (in-process). */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { orchInProcess } from './in-process.js';
import { ONE_FILE_PLAN as PLAN } from './plan-fixture.js';

describe('finding the plan', () => {
  let repo: TempRepo;
  beforeEach(async () => {
    repo = await tempRepo({ 'README.md': '# x\n', 'tasks.yaml': PLAN, 'src/deep/keep.txt': 'k\n' });
  });
  afterEach(async () => {
    await repo.cleanup();
  });

  it('orch plan check without an argument checks tasks.yaml, also from a subdirectory', async () => {
    const atRoot = await orchInProcess(['plan', 'check'], { cwd: repo.root });
    expect(atRoot.exitCode, atRoot.stderr).toBe(0);
    expect(atRoot.stdout).toMatch(/^Plan tasks\.yaml: 1 task/);
    const below = await orchInProcess(['plan', 'check'], { cwd: join(repo.root, 'src', 'deep') });
    expect(below.exitCode, below.stderr).toBe(0);
    expect(below.stdout).toMatch(/^Plan \.\.\/\.\.\/tasks\.yaml: 1 task/);
  });

  it('orch plan check warns about an unknown config key and names the one it resembles', async () => {
    await repo.write('.claude-agents.yaml', 'orchestration:\n  max_paralel_workers: 9\n');
    const r = await orchInProcess(['plan', 'check'], { cwd: repo.root });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'warning: .claude-agents.yaml:2:3: orchestration.max_paralel_workers: unknown key, ignored (did you mean "max_parallel_workers"?)',
    );
    const json = JSON.parse(
      (await orchInProcess(['plan', 'check', '--json'], { cwd: repo.root })).stdout,
    ) as {
      config_warnings: string[];
    };
    expect(json.config_warnings).toHaveLength(1);
  });

  it('orch plan check fails a shell task without run: and points dependency errors at file:line:col', async () => {
    await repo.write(
      'bad.yaml',
      `tasks:
  - id: a
    agent: shell
    files_write: [a.txt]
    verification: [{ command: "true" }]
`,
    );
    const scriptless = await orchInProcess(['plan', 'check', 'bad.yaml'], { cwd: repo.root });
    expect(scriptless.exitCode).toBe(1);
    expect(scriptless.stderr).toMatch(
      /bad\.yaml:2:5: tasks\[0\]: task "a" uses the shell agent but has no run script/,
    );

    await repo.write(
      'cycle.yaml',
      `tasks:
  - id: a
    run: "true"
    agent: shell
    depends_on: [b]
    verification: [{ command: "true" }]
  - id: b
    run: "true"
    agent: shell
    depends_on: [ghost, a]
    verification: [{ command: "true" }]
`,
    );
    const unknown = await orchInProcess(['plan', 'check', 'cycle.yaml'], { cwd: repo.root });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stdout).toContain("cycle.yaml:10:18: Task 'b' depends on 'ghost' which does not exist");
    const json = await orchInProcess(['plan', 'check', 'cycle.yaml', '--json'], { cwd: repo.root });
    const report = JSON.parse(json.stdout) as { dag: { issues: { path: string; line: number }[] } };
    expect(report.dag.issues).toEqual([
      expect.objectContaining({ path: 'tasks[1].depends_on[0]', line: 10 }),
    ]);
  });
});

import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orchBin, runOrch, tempRepo, type TempRepo } from '@orch/test-utils';

const PLAN = `request: one task
tasks:
  - id: a
    description: write a.txt
    agent: shell
    files_write: [a.txt]
    verification: [{ command: "test -f a.txt" }]
    run: echo a > a.txt
`;

/** Runs orch with stdout into a real pipe whose reader closes before orch writes anything. */
function withClosedReader(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [orchBin(), ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('output cut short by its reader', () => {
  let repo: TempRepo;
  beforeAll(async () => {
    repo = await tempRepo({ 'README.md': '# x\n', 'tasks.yaml': PLAN });
  });
  afterAll(async () => {
    await repo.cleanup();
  });

  it.each([[['state', 'list']], [['doctor']], [['plan', 'check', 'tasks.yaml', '--json']], [['--help']]])(
    'orch %j ends quietly with its own exit code',
    async (args) => {
      const normal = await runOrch(args, { cwd: repo.root });
      const cut = await withClosedReader(args, repo.root);
      expect(cut.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
      expect(cut.code).toBe(normal.exitCode);
    },
  );
});

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { appendEvent } from '../src/journal.js';

const exec = promisify(execFile);
export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** Runs a fixture script (which imports the built store) in its own Node process. */
export async function runFixture(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  return exec(process.execPath, [join(fixtures, name), ...args], {
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'orch-store-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Starts a run in `runDir` with the given task ids (a `run.started` event). */
export async function startRun(runDir: string, tasks: string[], run = 'r1'): Promise<void> {
  await appendEvent(runDir, {
    type: 'run.started',
    run,
    request: 'test request',
    repoRoot: '/repo',
    planPath: 'tasks.yaml',
    base: 'main',
    baseCommit: 'a'.repeat(40),
    staging: `orch/${run}/staging`,
    stagingCommit: 'a'.repeat(40),
    envHash: 'h',
    maxWorkers: 4,
    detached: false,
    tasks: tasks.map((id) => ({ id, dependsOn: [], agent: 'shell', description: '' })),
  });
}

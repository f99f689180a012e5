/**
 * The built binary and the in-process program are the same program: for a command of each group,
 * the exit code, stderr and stdout (text and --json) are identical. The groups' own tests run
 * in-process; this file is what keeps them honest about the binary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { exitCodesOf } from '../src/exit-codes.js';
import { buildProgram } from '../src/program.js';
import { orchInProcess } from './in-process.js';
import { runOrch } from '@orch/test-utils';
import { CLEAN_ENV, runRepo, type RunRepo } from './task-fixture.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/tasks.yaml', import.meta.url));

let r: RunRepo;
beforeAll(async () => {
  r = await runRepo();
});
afterAll(() => r.repo.cleanup());

const CASES: { args: string[]; exitCode: number }[] = [
  { args: ['context', 'set', 'naming', 'camelCase'], exitCode: 0 },
  { args: ['context', 'list', '--json'], exitCode: 0 },
  { args: ['context', 'get', 'missing'], exitCode: 1 },
  { args: ['mailbox', 'peek', 'ui', '--json'], exitCode: 0 },
  { args: ['mailbox', 'send', 'nobody', 'x'], exitCode: 1 },
  { args: ['deps', 'list', '--json'], exitCode: 0 },
  { args: ['deps', 'approve'], exitCode: 2 },
  { args: ['state', 'status'], exitCode: 0 },
  { args: ['state', 'list', '--json'], exitCode: 0 },
  { args: ['wait', '--timeout', '0', '--json'], exitCode: 4 },
  { args: ['state', 'abort'], exitCode: 2 },
  { args: ['state', 'clean', '--dry-run'], exitCode: 0 },
  { args: ['verify', 'nope'], exitCode: 1 },
  { args: ['install', '--scope', 'global'], exitCode: 2 },
  { args: ['config', '--json'], exitCode: 0 },
  { args: ['plan', 'check', 'missing.yaml', '--json'], exitCode: 1 },
];

/** The full name of the command an argument list runs (`state status`, `wait`). */
function commandName(args: string[]): string {
  const names: string[] = [];
  let cmd: Command | undefined = buildProgram();
  for (const a of args) {
    cmd = cmd.commands.find((c) => c.name() === a);
    if (!cmd) break;
    names.push(a);
  }
  return names.join(' ');
}

describe('the binary and the in-process program', () => {
  it('end every command with the same code, stderr and stdout', async () => {
    for (const c of CASES) {
      const bin = await r.orch(c.args);
      const inProcess = await orchInProcess(c.args, { cwd: r.root, env: CLEAN_ENV });
      expect({ args: c.args, exitCode: bin.exitCode }).toEqual({ args: c.args, exitCode: c.exitCode });
      // ... and one its --help lists (the catalogue in exit-codes.ts).
      const name = commandName(c.args);
      expect(exitCodesOf(name), name).toContain(bin.exitCode);
      // The spawn helper drops the final newline of each stream.
      expect({
        args: c.args,
        exitCode: inProcess.exitCode,
        stdout: inProcess.stdout.trimEnd(),
        stderr: inProcess.stderr.trimEnd(),
      }).toEqual({ args: c.args, exitCode: bin.exitCode, stdout: bin.stdout, stderr: bin.stderr });
    }
  });

  it('orch plan check passes the example plan with exit 0, from outside any repository it belongs to', async () => {
    const res = await runOrch(['plan', 'check', EXAMPLE], { cwd: r.root });
    expect(res.stderr).toBe('');
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toContain('Result: OK (exit 0)');
  });
});

import type { CliResult } from '@orch/test-utils';
import type { CommandIO } from '../src/define.js';
import { runCli } from '../src/main.js';

/**
 * Runs an orch command line in this process, as the binary would (same program, same printing),
 * with its output captured: the fast way to test a command that needs no terminal or signals.
 */
export async function orchInProcess(
  args: readonly string[],
  opts: { cwd: string; env?: Record<string, string | undefined> },
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CommandIO = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    cwd: opts.cwd,
    // Like a spawned binary: this process's environment, with the test's changes on top.
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
  };
  const exitCode = await runCli(args, io);
  return { stdout, stderr, exitCode };
}

import { Readable } from 'node:stream';
import type { CliResult } from '@orch/test-utils';
import type { CommandIO } from '../src/define.js';
import { runCli } from '../src/main.js';

/**
 * Runs an orch command line in this process, as the binary would (same program, same printing),
 * with its output captured: the fast way to test a command that needs no terminal or signals.
 */
export async function orchInProcess(
  args: readonly string[],
  opts: {
    cwd: string;
    env?: Record<string, string | undefined>;
    input?: string;
    /** Only `env` (and NO_COLOR), none of this process's variables: a spawn with extendEnv off. */
    onlyEnv?: boolean;
  },
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CommandIO = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    // Like a spawned binary's: the given input, else nothing to read (not a terminal).
    ...(opts.input !== undefined ? { stdin: Readable.from([Buffer.from(opts.input)]) } : {}),
    cwd: opts.cwd,
    // Like a spawned binary: this process's environment, with the test's changes on top.
    env: { ...(opts.onlyEnv ? {} : process.env), NO_COLOR: '1', ...opts.env },
  };
  const exitCode = await runCli(args, io);
  return { stdout, stderr, exitCode };
}

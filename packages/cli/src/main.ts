import { CommanderError } from 'commander';
// Only the error module: every command starts here, and the rest of core loads when a command needs it.
import { ExitCode, OrchError, isOrchError } from '@orch/core/errors';
import type { CommandIO } from './define.js';
import { guardOutput, printError, processIO } from './output.js';
import { buildCli } from './program.js';

/** Runs the CLI of this process (its streams, cwd and environment) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  guardOutput();
  if (process.env.ORCH_DEBUG) {
    // Loaded only when debugging: a supervisor replaces this sink with its run's debug.log.
    const { debugEnabled, setTraceSink } = await import('@orch/core');
    if (debugEnabled()) setTraceSink((line) => process.stderr.write(`${line}\n`));
  }
  return runCli(argv.slice(2), processIO());
}

/**
 * Runs one command line (without `node orch`) against the given streams, cwd and environment and
 * returns its exit code; never throws. Tests call it in-process with captured streams.
 */
export async function runCli(args: readonly string[], io: CommandIO): Promise<number> {
  const { program, outcome } = buildCli(io);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return outcome.exitCode;
  } catch (e) {
    return handleError(e, args.includes('--json'), io);
  }
}

export function handleError(e: unknown, json: boolean, io: CommandIO): ExitCode {
  if (e instanceof CommanderError) {
    // help and version are "errors" for commander; they exit 0.
    if (
      e.code === 'commander.helpDisplayed' ||
      e.code === 'commander.version' ||
      e.code === 'commander.help'
    ) {
      return ExitCode.Ok;
    }
    return ExitCode.Usage;
  }
  const err = isOrchError(e)
    ? e
    : new OrchError('ERR_ORCH_INTERNAL', e instanceof Error ? e.message : String(e), {
        cause: e,
        hint: 'This is a bug in orch. Run again with ORCH_DEBUG=1 to see the stack trace.',
      });
  printError(err, json, io);
  if (io.env.ORCH_DEBUG === '1') {
    const stack = (err.cause instanceof Error ? err.cause.stack : undefined) ?? err.stack;
    if (stack) io.stderr.write(`${stack}\n`);
  }
  return toExitCode(err.exitCode);
}

const CODES = new Set<number>(Object.values(ExitCode));

/** An error's code, if it is one of the catalogue's (an unknown one is a plain failure). */
function toExitCode(n: number): ExitCode {
  return CODES.has(n) ? (n as ExitCode) : ExitCode.Failed;
}

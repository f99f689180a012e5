import { CommanderError } from 'commander';
// Only the error module: every command starts here, and the rest of core loads when a command needs it.
import { ExitCode, OrchError, isOrchError } from '@orch/core/errors';
import { buildProgram } from './program.js';
import { guardOutput, printError } from './output.js';

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  guardOutput();
  if (process.env.ORCH_DEBUG) {
    // Loaded only when debugging: a supervisor replaces this sink with its run's debug.log.
    const { debugEnabled, setTraceSink } = await import('@orch/core');
    if (debugEnabled()) setTraceSink((line) => process.stderr.write(`${line}\n`));
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (e) {
    return handleError(e, argv.includes('--json'));
  }
}

export function handleError(e: unknown, json: boolean): number {
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
  printError(err, json);
  if (process.env.ORCH_DEBUG === '1') {
    const stack = (err.cause instanceof Error ? err.cause.stack : undefined) ?? err.stack;
    if (stack) process.stderr.write(`${stack}\n`);
  }
  return err.exitCode;
}

import { Command } from 'commander';
import { ExitCode } from '@orch/core/errors';
import { registerCommands } from './commands/index.js';
import { emit, type CommandIO, type CommandResult, type Runner } from './define.js';
import { addExitCodeHelp } from './exit-codes.js';
import { processIO } from './output.js';
import { VERSION } from './version.js';

/** The program and where the exit code of the command it ran ends up. */
export interface Cli {
  readonly program: Command;
  readonly outcome: { exitCode: number };
}

export function buildCli(io: CommandIO = processIO()): Cli {
  const outcome: { exitCode: number } = { exitCode: ExitCode.Ok };
  const runner: Runner = {
    io,
    async invoke(handler: () => Promise<CommandResult> | CommandResult) {
      const result = await handler();
      emit(result, io);
      outcome.exitCode = result.agentExitCode ?? result.exitCode;
    },
  };
  const program = new Command('orch')
    .description('Run many coding agents in parallel on one codebase, safely.')
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    // Root options (-V/--version) only before the subcommand, so `contracts gen --version V` is the subcommand's.
    .enablePositionalOptions()
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false })
    .exitOverride();
  registerCommands(program, runner);
  addExitCodeHelp(program);
  // Every subcommand throws instead of exiting, so runCli() decides the exit code in one place, and
  // writes help and usage errors to the injected streams.
  const override = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
    });
    cmd.commands.forEach(override);
  };
  override(program);
  return { program, outcome };
}

export function buildProgram(io?: CommandIO): Command {
  return buildCli(io).program;
}

import { Command } from 'commander';
import { registerCommands } from './commands/index.js';
import { addExitCodeHelp } from './exit-codes.js';
import { VERSION } from './version.js';

export function buildProgram(): Command {
  const program = new Command('orch')
    .description('Run many coding agents in parallel on one codebase, safely.')
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    // Root options (-V/--version) only before the subcommand, so `contracts gen --version V` is the subcommand's.
    .enablePositionalOptions()
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false })
    .exitOverride();
  registerCommands(program);
  addExitCodeHelp(program);
  // Every subcommand throws instead of exiting, so main() decides the exit code in one place.
  const override = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.commands.forEach(override);
  };
  override(program);
  return program;
}

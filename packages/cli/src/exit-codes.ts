/**
 * The exit-code catalogue of the CLI: 0 ok, 1 failed, 2 usage, 3 needs you, 4 still running or
 * stopped. Every command returns one of these (never a literal number); this module says which
 * codes each command can end with, and `--help` prints them from here. The codes and their meanings
 * are defined in core (`ExitCode`, `EXIT_CODE_MEANINGS`), where `OrchError` carries them too.
 */
import type { Command } from 'commander';
import { EXIT_CODE_MEANINGS, ExitCode } from '@orch/core/errors';

export { EXIT_CODE_MEANINGS, ExitCode };

const BASIC: readonly ExitCode[] = [ExitCode.Ok, ExitCode.Failed, ExitCode.Usage];
const CHECK: readonly ExitCode[] = [...BASIC, ExitCode.NeedsApproval];
const RUN: readonly ExitCode[] = [...CHECK, ExitCode.NotFinished];

/** Commands (full name without `orch`) whose codes go beyond 0, 1 and 2. */
const CODES: Readonly<Record<string, readonly ExitCode[]>> = {
  plan: CHECK,
  'plan check': CHECK,
  risk: CHECK,
  run: RUN,
  // The demo runs a sample plan to its end: it ends as a run does.
  demo: RUN,
  wait: RUN,
  'state status': RUN,
  'state resume': RUN,
  // A distributed run's decision needs its live supervisor (4: none runs, or no answer yet).
  'deps approve': [...BASIC, ExitCode.NotFinished],
  'deps deny': [...BASIC, ExitCode.NotFinished],
};

/** Command-specific words for a code, where the general meaning says too little. */
const WORDS: Readonly<Record<string, Partial<Record<ExitCode, string>>>> = {
  run: {
    4: 'stopped before it finished (second Ctrl-C, SIGTERM); orch state resume continues it',
  },
  wait: { 4: 'still running when the timeout passed' },
  'deps approve': {
    4: "a distributed run's supervisor is not running (resume it), or has not answered yet",
  },
  'deps deny': { 4: "a distributed run's supervisor is not running (resume it), or has not answered yet" },
  'plan check': { 3: 'valid, but the risk score needs a human approval' },
};

export function exitCodesOf(name: string): readonly ExitCode[] {
  return CODES[name] ?? BASIC;
}

export function exitCodeLines(name: string): string[] {
  return exitCodesOf(name).map((c) => `  ${c}  ${WORDS[name]?.[c] ?? EXIT_CODE_MEANINGS[c]}`);
}

function fullName(cmd: Command): string {
  const parts: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) parts.unshift(c.name());
  return parts.join(' ');
}

/** Appends the "Exit codes:" section to the help of `orch` (every code) and of every command below it. */
export function addExitCodeHelp(program: Command): void {
  const all = Object.values(ExitCode).map((c) => `  ${c}  ${EXIT_CODE_MEANINGS[c]}`);
  program.addHelpText('after', `\nExit codes:\n${all.join('\n')}`);
  const walk = (parent: Command): void => {
    for (const cmd of parent.commands) {
      const name = fullName(cmd);
      cmd.addHelpText('after', () => `\nExit codes:\n${exitCodeLines(name).join('\n')}`);
      walk(cmd);
    }
  };
  walk(program);
}

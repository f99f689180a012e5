/**
 * How a command is declared: `defineCommand({ name, args, options, handler })`. The handler gets
 * typed arguments and options plus its input/output (`stdout`, `stderr`, `cwd`, `env`) and returns
 * `{ exitCode, json?, lines?, notes? }`; the program prints the result and ends with the code. So a
 * command runs in-process in tests (`runCli` with captured streams) exactly as it runs from a shell.
 * Commands that stream (dashboard, wait, mailbox watch) write through the injected `stdout` as they go
 * and return only their exit code.
 *
 * This module must stay light: every command module imports it, and `orch --version` loads them all.
 */
import { Argument, InvalidArgumentError, Option, type Command } from 'commander';
import { ExitCode } from './exit-codes.js';

/** Where a command writes: the process's streams, or strings in a test. */
export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  /** A terminal's width. */
  readonly columns?: number;
  /**
   * Writes and resolves once the text was handed on (to the operating system, for a process
   * stream); rejects when it cannot be written. Without it, `write` is taken as done at once.
   */
  writeDone?(text: string): Promise<void>;
}

/** What a command reads on stdin (the Claude Code hook's JSON, a confirmation). */
export interface Input extends AsyncIterable<Buffer | string> {
  readonly isTTY?: boolean;
}

export interface CommandIO {
  readonly stdout: Output;
  readonly stderr: Output;
  /** Absent: nothing to read (as a closed stdin). */
  readonly stdin?: Input;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface CommandContext extends CommandIO {
  /** Prints this command's help on stderr; returns the usage result to hand back. */
  usage(): CommandResult;
}

export interface CommandResult {
  readonly exitCode: ExitCode;
  /** Printed on stdout as indented JSON (a command returns it when `--json` was given). */
  readonly json?: unknown;
  /** Printed on stdout, one per line. */
  readonly lines?: readonly string[];
  /** Remarks for the person at the terminal, on stderr (warnings). */
  readonly notes?: readonly string[];
  /**
   * Only the hidden `orch _exec`: the process ends with the agent's own exit code (outside this
   * catalogue), which is what the worker's session reports.
   */
  readonly agentExitCode?: number;
}

// ---------------------------------------------------------------- options and arguments

/** `P` says whether the value is always there (a default, a flag, a required option). */
export interface OptionSpec<T, P extends boolean> {
  readonly kind: 'option';
  readonly flags: string;
  readonly description: string;
  readonly parse?: (raw: string) => T;
  readonly defaultValue?: T;
  readonly defaultText?: string;
  readonly required?: boolean;
  readonly hidden?: boolean;
  readonly choices?: readonly string[];
  readonly present?: P;
}

export interface ArgSpec<T, P extends boolean> {
  readonly kind: 'arg';
  readonly syntax: string;
  readonly description: string;
  readonly defaultValue?: T;
  /** The only words accepted (commander refuses others; shell completion offers them). */
  readonly choices?: readonly string[];
  readonly present?: P;
}

type AnyOption = OptionSpec<unknown, boolean>;
type AnyArg = ArgSpec<unknown, boolean>;
export type OptionSpecs = Readonly<Record<string, AnyOption>>;
export type ArgSpecs = Readonly<Record<string, AnyArg>>;

type ValueOf<S> =
  S extends OptionSpec<infer T, infer P>
    ? P extends true
      ? T
      : T | undefined
    : S extends ArgSpec<infer T, infer P>
      ? P extends true
        ? T
        : T | undefined
      : never;
export type Values<S> = { [K in keyof S]: ValueOf<S[K]> };

/** Option builders. The key an option is given in `options` must be commander's name for it. */
export const opt = {
  /** One of a fixed set of words, with a default. */
  choice<const C extends string>(
    flags: string,
    description: string,
    choices: readonly C[],
    defaultValue: C,
  ): OptionSpec<C, true> {
    return { kind: 'option', flags, description, choices, defaultValue };
  },
  /** A switch: `--yes`; false unless given. */
  flag(flags: string, description: string): OptionSpec<boolean, true> {
    return { kind: 'option', flags, description, defaultValue: false };
  },
  /** `--no-tui`: true unless the negation is given (the key is `tui`). */
  negatable(flags: string, description: string): OptionSpec<boolean, true> {
    return { kind: 'option', flags, description };
  },
  text(flags: string, description: string, o: { hidden?: boolean } = {}): OptionSpec<string, false> {
    return { kind: 'option', flags, description, ...o };
  },
  textWithDefault(flags: string, description: string, defaultValue: string): OptionSpec<string, true> {
    return { kind: 'option', flags, description, defaultValue };
  },
  requiredText(flags: string, description: string): OptionSpec<string, true> {
    return { kind: 'option', flags, description, required: true };
  },
  /** A value parsed (and refused with a usage error) by `parse`. */
  parsed<T>(flags: string, description: string, parse: (raw: string) => T): OptionSpec<T, false> {
    return { kind: 'option', flags, description, parse };
  },
  parsedWithDefault<T>(
    flags: string,
    description: string,
    parse: (raw: string) => T,
    defaultValue: T,
  ): OptionSpec<T, true> {
    return { kind: 'option', flags, description, parse, defaultValue };
  },
};

/** The options many commands share, declared once with one help text each. */
export const common = {
  json: (description = 'print the result as JSON'): OptionSpec<boolean, true> =>
    opt.flag('--json', description),
  /** The run a command looks at: `--run <id>`. */
  run: (): OptionSpec<string, false> =>
    opt.text('--run <id>', 'the run (default: ORCH_RUN, else the current run)'),
  task: (): OptionSpec<string, false> =>
    opt.text('--task <id>', 'the task (default: ORCH_TASK; a worker may name only its own)'),
  yes: (): OptionSpec<boolean, true> => opt.flag('-y, --yes', 'do not ask for confirmation'),
  dryRun: (description = 'only say what would be done'): OptionSpec<boolean, true> =>
    opt.flag('--dry-run', description),
  config: (): OptionSpec<string, false> =>
    opt.text(
      '--config <file>',
      'config file (default: orch.yaml, .orch/config.yaml or .claude-agents.yaml at the repository root)',
    ),
};

export const arg = {
  required(name: string, description: string): ArgSpec<string, true> {
    return { kind: 'arg', syntax: `<${name}>`, description };
  },
  /** One of a fixed set of words. */
  choice<const C extends string>(name: string, description: string, choices: readonly C[]): ArgSpec<C, true> {
    return { kind: 'arg', syntax: `<${name}>`, description, choices };
  },
  optional(name: string, description: string): ArgSpec<string, false> {
    return { kind: 'arg', syntax: `[${name}]`, description };
  },
  withDefault(name: string, description: string, defaultValue: string): ArgSpec<string, true> {
    return { kind: 'arg', syntax: `[${name}]`, description, defaultValue };
  },
  variadic(name: string, description: string): ArgSpec<string[], true> {
    return { kind: 'arg', syntax: `<${name}...>`, description };
  },
};

/** Parsers for `opt.parsed`: a bad value is a usage error naming what was expected. */
export const parse = {
  positiveInt(v: string): number {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`expected a positive whole number, got "${v}"`);
    return n;
  },
  seconds(v: string): number {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0)
      throw new InvalidArgumentError(`expected seconds (a number >= 0), got "${v}"`);
    return n;
  },
};

// ---------------------------------------------------------------- commands

export interface CommandSpec<A extends ArgSpecs, O extends OptionSpecs> {
  /** The word after the parent: `check` in `orch plan check`. */
  readonly name: string;
  readonly description: string;
  readonly hidden?: boolean;
  readonly args?: A;
  readonly options?: O;
  /** Command lines shown under "Example(s):" in `--help`, without the `$ `. */
  readonly examples?: readonly string[];
  /** Free text before the examples (what the exit codes mean for this command, ...). */
  readonly help?: string;
  /** Text after the examples. */
  readonly epilog?: string;
  readonly subcommands?: readonly CommandDefinition[];
  readonly handler?: (
    input: { readonly args: Values<A>; readonly opts: Values<O> },
    ctx: CommandContext,
  ) => Promise<CommandResult> | CommandResult;
}

/** A declared command, ready to be attached to a program (type-erased so lists of them mix). */
export interface CommandDefinition {
  readonly name: string;
  attach(parent: Command, run: Runner): Command;
}

/** Runs a handler and prints its result: the program's side of the contract. */
export interface Runner {
  readonly io: CommandIO;
  invoke(handler: () => Promise<CommandResult> | CommandResult): Promise<void>;
}

export function defineCommand<
  A extends ArgSpecs = Record<never, never>,
  O extends OptionSpecs = Record<never, never>,
>(spec: CommandSpec<A, O>): CommandDefinition {
  return {
    name: spec.name,
    attach(parent, runner) {
      const cmd = parent
        .command(spec.name, spec.hidden ? { hidden: true } : {})
        .description(spec.description);
      const argSpecs = Object.entries(spec.args ?? {});
      for (const [, a] of argSpecs) {
        const argument = new Argument(a.syntax, a.description);
        if (a.defaultValue !== undefined) argument.default(a.defaultValue);
        if (a.choices) argument.choices(a.choices);
        cmd.addArgument(argument);
      }
      const optionSpecs = Object.entries(spec.options ?? {});
      for (const [key, o] of optionSpecs) cmd.addOption(toOption(key, o));
      const switches = Object.fromEntries(
        optionSpecs.filter(([, o]) => o.defaultValue === false).map(([key]) => [key, false]),
      );
      const text = helpText(spec);
      if (text) cmd.addHelpText('after', text);
      for (const sub of spec.subcommands ?? []) sub.attach(cmd, runner);
      const handler = spec.handler;
      if (handler) {
        cmd.action(async (...received: unknown[]) => {
          const args = Object.fromEntries(argSpecs.map(([key], i) => [key, received[i]])) as Values<A>;
          const opts = { ...switches, ...cmd.opts() } as Values<O>;
          const ctx: CommandContext = {
            ...runner.io,
            usage: () => {
              cmd.outputHelp({ error: true });
              return { exitCode: ExitCode.Usage };
            },
          };
          await runner.invoke(() => handler({ args, opts }, ctx));
        });
      }
      return cmd;
    },
  };
}

function toOption(key: string, o: AnyOption): Option {
  const option = new Option(o.flags, o.description);
  // The key is what the handler reads: a mismatch is a bug in the declaration, found by any test.
  if (option.attributeName() !== key)
    throw new Error(`option ${o.flags} is read as "${option.attributeName()}", declared as "${key}"`);
  if (o.parse) option.argParser(o.parse);
  // A switch's false is filled in by the action, so help does not say "(default: false)" for each.
  if (o.defaultValue !== undefined && o.defaultValue !== false) option.default(o.defaultValue, o.defaultText);
  if (o.required) option.makeOptionMandatory(true);
  if (o.hidden) option.hideHelp();
  if (o.choices) option.choices(o.choices);
  return option;
}

function helpText(spec: Pick<CommandSpec<ArgSpecs, OptionSpecs>, 'help' | 'examples' | 'epilog'>): string {
  const ex = spec.examples ?? [];
  const sections = [
    spec.help,
    ex.length > 0
      ? `${ex.length === 1 ? 'Example' : 'Examples'}:\n${ex.map((l) => `  $ ${l}`).join('\n')}`
      : undefined,
    spec.epilog,
  ].filter((x): x is string => x !== undefined && x !== '');
  return sections.length > 0 ? `\n${sections.join('\n\n')}` : '';
}

/** Writes a handler's result to the command's streams. */
export function emit(result: CommandResult, io: CommandIO): void {
  for (const n of result.notes ?? []) io.stderr.write(`${n}\n`);
  if (result.json !== undefined) io.stdout.write(`${JSON.stringify(result.json, null, 2)}\n`);
  for (const l of result.lines ?? []) io.stdout.write(`${l}\n`);
}

/**
 * Shell completion scripts for bash, zsh and fish, generated from the commander program itself, so
 * every command and option orch has is completed and nothing it lacks is offered. Each script
 * walks the words typed so far down the command tree, then offers the node's subcommands, options
 * and argument choices; anything else falls back to the shell's file completion (plan files).
 */
import type { Command } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export interface CompletionNode {
  /** `orch`, `orch plan`, `orch plan check`. */
  path: string;
  subcommands: { name: string; description: string }[];
  options: { flags: string[]; description: string }[];
  /** Values an argument of the command takes (`orch schema plan|config`). */
  choices: string[];
}

const isHidden = (cmd: Command): boolean => (cmd as unknown as { _hidden?: boolean })._hidden === true;

/** Every visible command of `program`, depth first, with what completes after it. */
export function completionTree(program: Command): CompletionNode[] {
  const out: CompletionNode[] = [];
  const walk = (cmd: Command, path: string): void => {
    const subs = cmd.commands.filter((c) => !isHidden(c));
    const options = cmd.options
      .filter((o) => !o.hidden)
      .map((o) => ({
        flags: [o.short, o.long].filter((f): f is string => typeof f === 'string'),
        description: o.description,
      }));
    options.push({ flags: ['-h', '--help'], description: 'display help for command' });
    const choices = cmd.registeredArguments.flatMap((a) => a.argChoices ?? []);
    out.push({
      path,
      subcommands: subs.map((c) => ({ name: c.name(), description: c.description() })),
      options,
      choices,
    });
    for (const sub of subs) walk(sub, `${path} ${sub.name()}`);
  };
  walk(program, program.name());
  return out;
}

const words = (n: CompletionNode): string[] => [
  ...n.subcommands.map((s) => s.name),
  ...n.choices,
  ...n.options.flatMap((o) => o.flags),
];

/** Single-quoted for any POSIX-like shell (and fish): `'` becomes `'\''` (fish: `\'`). */
const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const fishq = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

function bash(tree: CompletionNode[], name: string): string {
  const inner = tree.filter((n) => n.subcommands.length > 0);
  const descend = inner.flatMap((n) => n.subcommands.map((s) => sq(`${n.path} ${s.name}`)));
  const lines = [
    `# bash completion for ${name}; load with: source <(${name} completion bash)`,
    `_${name}_complete() {`,
    '  local cur="${COMP_WORDS[COMP_CWORD]}" cmdpath=' + sq(name) + ' i',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    case "$cmdpath ${COMP_WORDS[i]}" in',
    `      ${descend.join(' | ')}) cmdpath="$cmdpath \${COMP_WORDS[i]}" ;;`,
    '    esac',
    '  done',
    '  local candidates=""',
    '  case "$cmdpath" in',
    ...tree.map((n) => `    ${sq(n.path)}) candidates=${sq(words(n).join(' '))} ;;`),
    '  esac',
    '  COMPREPLY=($(compgen -W "$candidates" -- "$cur"))',
    '}',
    `complete -o default -F _${name}_complete ${name}`,
  ];
  return `${lines.join('\n')}\n`;
}

function zsh(tree: CompletionNode[], name: string): string {
  const inner = tree.filter((n) => n.subcommands.length > 0);
  const descend = inner.flatMap((n) => n.subcommands.map((s) => sq(`${n.path} ${s.name}`)));
  // `_describe` splits `word:description` at the first unescaped colon.
  const entry = (word: string, description: string): string =>
    sq(`${word.replace(/:/g, '\\:')}:${oneLine(description)}`);
  const lines = [
    `#compdef ${name}`,
    `# zsh completion for ${name}; load with: source <(${name} completion zsh), or save it as _${name} on $fpath`,
    `_${name}() {`,
    // `path` is special in zsh (it is $PATH as an array): never use it as a variable name.
    '  local cmdpath=' + sq(name) + ' i',
    '  for ((i = 2; i < CURRENT; i++)); do',
    '    case "$cmdpath ${words[i]}" in',
    `      (${descend.join('|')}) cmdpath="$cmdpath \${words[i]}" ;;`,
    '    esac',
    '  done',
    '  local -a candidates',
    '  case "$cmdpath" in',
    ...tree.map((n) => {
      const items = [
        ...n.subcommands.map((s) => entry(s.name, s.description)),
        ...n.choices.map((c) => entry(c, c)),
        ...n.options.flatMap((o) => o.flags.map((f) => entry(f, o.description))),
      ];
      return `    (${sq(n.path)}) candidates=(${items.join(' ')}) ;;`;
    }),
    '  esac',
    `  _describe -t commands ${sq(name)} candidates || _files`,
    '}',
    `if [ "$funcstack[1]" = "_${name}" ]; then _${name} "$@"; else compdef _${name} ${name}; fi`,
  ];
  return `${lines.join('\n')}\n`;
}

function fish(tree: CompletionNode[], name: string): string {
  const inner = tree.filter((n) => n.subcommands.length > 0);
  const descend = inner.flatMap((n) => n.subcommands.map((s) => fishq(`${n.path} ${s.name}`)));
  const fn = `__${name}_command_path`;
  const lines = [
    `# fish completion for ${name}; load with: ${name} completion fish | source`,
    `function ${fn}`,
    `    set -l cmdpath ${name}`,
    '    for word in (commandline -opc)[2..-1]',
    '        switch "$cmdpath $word"',
    `            case ${descend.join(' ')}`,
    '                set cmdpath "$cmdpath $word"',
    '        end',
    '    end',
    '    echo $cmdpath',
    'end',
    // Command names are plain words, so the path can be passed unquoted and joined back by "$argv".
    `function __${name}_at`,
    `    test (${fn}) = "$argv"`,
    'end',
  ];
  for (const n of tree) {
    const at = `-n ${fishq(`__${name}_at ${n.path}`)}`;
    for (const s of n.subcommands)
      lines.push(`complete -c ${name} ${at} -f -a ${fishq(s.name)} -d ${fishq(oneLine(s.description))}`);
    for (const c of n.choices) lines.push(`complete -c ${name} ${at} -f -a ${fishq(c)}`);
    for (const o of n.options) {
      const flags = o.flags.map((f) => (f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`));
      lines.push(`complete -c ${name} ${at} ${flags.join(' ')} -d ${fishq(oneLine(o.description))}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(program: Command, shell: Shell): string {
  const tree = completionTree(program);
  const name = program.name();
  return shell === 'bash' ? bash(tree, name) : shell === 'zsh' ? zsh(tree, name) : fish(tree, name);
}

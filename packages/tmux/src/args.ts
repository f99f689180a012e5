/**
 * Building tmux argument vectors safely.
 *
 * tmux splits its argv into commands at any argument that ends with `;` (checked on 3.3a), and
 * turns a trailing `\;` into a literal `;`. So every argument that ends with `;` gets a `\`
 * inserted before that final `;`, which tmux removes again: the value arrives unchanged.
 */
export function escapeArg(arg: string): string {
  return arg.endsWith(';') ? `${arg.slice(0, -1)}\\;` : arg;
}

/** One argv for a sequence of tmux commands, run together by the server in order. */
export function chain(commands: readonly (readonly string[])[]): string[] {
  const out: string[] = [];
  commands.forEach((cmd, i) => {
    if (i > 0) out.push(';');
    for (const a of cmd) out.push(escapeArg(a));
  });
  return out;
}

/** tmux expands `#{...}` formats in some arguments (pipe-pane commands, `-c` dirs); `##` is a literal `#`. */
export function escapeFormat(value: string): string {
  return value.replace(/#/g, '##');
}

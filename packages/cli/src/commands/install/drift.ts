import type { Command, Option } from 'commander';

/**
 * The drift guard: every `orch ...` command that the agents, the skill and the docs tell someone to
 * type must exist in the real commander program, with every flag it uses.
 */
export interface Invocation {
  file: string;
  line: number;
  /** The command as written, starting at `orch`. */
  text: string;
}

/**
 * Code spans (which may wrap lines) and fenced code block lines of a Markdown text, with their line.
 * A block fenced as ```text holds program output (a captured screen), not commands, and is skipped.
 */
export function codeOf(markdown: string): { code: string; line: number }[] {
  const out: { code: string; line: number }[] = [];
  const lines = markdown.split('\n');
  let fence: string | null = null;
  let output = false;
  let para: { text: string; start: number } | null = null;
  const flush = (): void => {
    if (!para) return;
    for (const m of para.text.matchAll(/(`+)([^`]+?)\1/g)) {
      const line = para.start + (para.text.slice(0, m.index).match(/\n/g)?.length ?? 0);
      out.push({ code: m[2]!.replace(/\s*\n\s*/g, ' '), line });
    }
    para = null;
  };
  lines.forEach((l, i) => {
    const m = /^\s*(```+|~~~+)\s*(\S*)/.exec(l);
    if (fence !== null) {
      if (m && m[1]!.startsWith(fence) && !m[2]) fence = null;
      else if (!output) out.push({ code: l, line: i + 1 });
      return;
    }
    if (m) {
      flush();
      fence = m[1]!;
      output = m[2] === 'text';
    } else if (l.trim() === '') flush();
    else if (para) para.text += `\n${l}`;
    else para = { text: l, start: i + 1 };
  });
  flush();
  return out;
}

/**
 * `orch` in command position: at the start of the code (after an optional `$ ` prompt and
 * `VAR=value` assignments) or after a shell separator (`&&`, `||`, `;`, `|`, `(`, `$(`). Prose that
 * happens to contain the word inside a code block (a comment, a JSON string) is not a command.
 */
const COMMAND_START =
  /(?:^\s*(?:\$\s+)?|&&\s*|\|\|?\s*|;\s*|\$?\(\s*)(?:[A-Z_][A-Z0-9_]*=\S*\s+)*orch\s+(?=[a-z"'<[-])/g;

/** Every `orch ...` command inside code, cut at the first shell separator. */
export function extractOrchInvocations(markdown: string, file: string): Invocation[] {
  const out: Invocation[] = [];
  for (const { code, line } of codeOf(markdown)) {
    for (const m of code.matchAll(COMMAND_START)) {
      const start = m.index + m[0].lastIndexOf('orch');
      out.push({ file, line, text: cutAtSeparator(code.slice(start)).trim() });
    }
  }
  return out;
}

/** The command up to the first unquoted shell separator: ` | `, `&&`, `||`, `;`, `)`, ` #`. */
function cutAtSeparator(text: string): string {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === ';' || ch === ')' || (ch === '&' && text[i + 1] === '&')) return text.slice(0, i);
    else if (ch === '|' && (text[i + 1] === '|' || (text[i - 1] === ' ' && text[i + 1] === ' ')))
      return text.slice(0, i);
    else if (ch === '#' && text[i - 1] === ' ') return text.slice(0, i);
  }
  return text;
}

/** Shell-like words: quotes group, and are dropped. */
export function words(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

function findOption(cmd: Command, flag: string): Option | undefined {
  return cmd.options.find((o) => o.long === flag || o.short === flag);
}

function isHelp(cmd: Command, flag: string): boolean {
  const help = (cmd as unknown as { _getHelpOption?: () => Option | null })._getHelpOption?.();
  return flag === '--help' || flag === '-h' || (help != null && (help.long === flag || help.short === flag));
}

/**
 * Checks one invocation against the program: returns a problem description, or null when the
 * command path exists and every flag exists on it. `a|b` in a command position (documentation
 * shorthand) is checked as both commands; `[...]` brackets are ignored.
 */
export function checkInvocation(program: Command, text: string): string | null {
  const toks = words(text)
    .map((t) => t.replace(/^\[+|\]+$/g, ''))
    .filter((t) => t !== '' && t !== '...' && t !== '…');
  if (toks[0] !== 'orch') return `does not start with orch`;
  let cmds: Command[] = [program];
  let inPath = true;
  const path: string[] = ['orch'];
  for (let i = 1; i < toks.length; i++) {
    const tok = toks[i]!;
    if (tok.startsWith('-')) {
      const flag = tok.includes('=') ? tok.slice(0, tok.indexOf('=')) : tok;
      if (/^-[a-zA-Z]{2,}$/.test(flag))
        return `combined short flags ${flag} are not checked; write them apart`;
      const found = cmds.map((c) => findOption(c, flag)).find((o) => o !== undefined);
      if (
        !found &&
        !cmds.some((c) => isHelp(c, flag) || (c === program && (flag === '--version' || flag === '-V')))
      ) {
        return `\`${path.join(' ')}\` has no option ${flag}`;
      }
      // A flag that takes a value consumes the next word.
      if (found && (found.required || found.optional) && !tok.includes('=')) i++;
      continue;
    }
    if (!inPath) continue;
    const names = tok.split('|');
    const subs = names.map((n) =>
      cmds.flatMap((c) => c.commands).find((s) => s.name() === n || s.aliases().includes(n)),
    );
    if (subs.every((s) => s !== undefined)) {
      cmds = subs as Command[];
      path.push(tok);
      continue;
    }
    // Not a subcommand: an argument, which is fine only if the command takes arguments.
    if (!cmds.some((c) => c.registeredArguments.length > 0)) {
      const hasSubs = cmds.some((c) => c.commands.length > 0);
      return hasSubs
        ? `\`${path.join(' ')}\` has no subcommand ${tok}`
        : `\`${path.join(' ')}\` takes no argument, got ${tok}`;
    }
    inPath = false;
  }
  // `orch --version` and `orch --help` are whole invocations of their own.
  const programFlag = toks.some((t) => ['--version', '-V', '--help', '-h'].includes(t));
  if (cmds.length === 1 && cmds[0] === program && !programFlag) return 'no command given';
  return null;
}

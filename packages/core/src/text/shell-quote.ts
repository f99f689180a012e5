/**
 * POSIX shell quoting, the one implementation: for the few places orch must write a shell string
 * (tmux pipe-pane, hook settings, printed commands, verification placeholders). Everything orch
 * runs itself gets an argument array instead.
 */

const SAFE_WORD = /^[A-Za-z0-9_./@%+=:,-]+$/;

/** A word that `sh` reads back as exactly `s`, with no expansion (bare when that is already so). */
export function shellQuote(s: string): string {
  if (s !== '' && SAFE_WORD.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A repository path as one shell word; a leading dash would read as an option, so `-x` is `./-x`. */
export function shellQuotePath(path: string): string {
  return shellQuote(path.startsWith('-') ? `./${path}` : path);
}

/** Paths as shell words, space-separated. */
export function shellQuoteAll(paths: readonly string[]): string {
  return paths.map(shellQuotePath).join(' ');
}

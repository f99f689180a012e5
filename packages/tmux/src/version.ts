import { OrchError } from '@orch/core';
import { TMUX_INSTALL_HINT, runTmux } from './exec.js';

/** The oldest tmux orch supports: `new-session -e` and window-level `set-hook -w` need 3.2. */
export const MIN_TMUX_VERSION = { major: 3, minor: 2 } as const;

/** The installed tmux version as tmux prints it, e.g. `3.3a` (or `next-3.5`, `master`). */
export async function tmuxVersion(): Promise<string> {
  const r = await runTmux(['-V'], { timeoutMs: 5_000 });
  if (r.exitCode !== 0) {
    throw new OrchError(
      'ERR_ORCH_TMUX_MISSING',
      `\`tmux -V\` failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`,
      {
        hint: TMUX_INSTALL_HINT,
      },
    );
  }
  return r.stdout.trim().replace(/^tmux\s+/, '');
}

/** `{ major, minor }` of a version string, or null for builds such as `master`. */
export function parseTmuxVersion(version: string): { major: number; minor: number } | null {
  const m = /(\d+)\.(\d+)/.exec(version);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : null;
}

/** Resolves to the version when a usable tmux is installed; otherwise an OrchError that says how to fix it. */
export async function assertTmux(): Promise<string> {
  const version = await tmuxVersion();
  const v = parseTmuxVersion(version);
  const min = MIN_TMUX_VERSION;
  if (v && (v.major < min.major || (v.major === min.major && v.minor < min.minor))) {
    throw new OrchError(
      'ERR_ORCH_TMUX_TOO_OLD',
      `tmux ${version} is too old; orch needs ${min.major}.${min.minor}+`,
      {
        hint: TMUX_INSTALL_HINT,
      },
    );
  }
  return version;
}

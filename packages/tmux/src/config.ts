import { mkdir, rename, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { traced } from '@orch/core';

export const CONFIG_FILE_NAME = 'tmux.conf';

let terminalProbe: Promise<string> | undefined;

/**
 * `tmux-256color` when this machine has its terminfo entry; `screen-256color` otherwise (macOS
 * ships none, and programs in the pane then misbehave). Probed once per process.
 */
export function defaultTerminal(): Promise<string> {
  terminalProbe ??= execa('infocmp', ['tmux-256color'], {
    reject: false,
    timeout: 5_000,
    stdin: 'ignore',
  }).then((r) => (r.exitCode === 0 ? 'tmux-256color' : 'screen-256color'));
  return terminalProbe;
}

/** The text of orch's private tmux config. */
export function renderConfig(opts: { terminal: string; historyLimit?: number }): string {
  return [
    '# orch private tmux server configuration (generated; the user config is never read)',
    `set-option -g history-limit ${opts.historyLimit ?? 50_000}`,
    // The server exits with its last session, so nothing is left behind between runs.
    'set-option -g exit-empty on',
    `set-option -g default-terminal "${opts.terminal}"`,
    'set-option -s escape-time 10',
    'set-option -g default-size 200x50',
    '',
  ].join('\n');
}

/** Writes the config into `dir` (atomically, only when it changed) and returns its path. */
export async function writeConfig(dir: string, historyLimit?: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, CONFIG_FILE_NAME);
  const text = renderConfig({ terminal: await defaultTerminal(), ...(historyLimit ? { historyLimit } : {}) });
  const current = await readFile(path, 'utf8').catch(traced('tmux.config.readFile'));
  if (current !== text) {
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, path);
  }
  return path;
}

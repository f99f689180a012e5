/**
 * One SSH connection per host for its git traffic with the remote. Every attempt fetches its base
 * and pushes its branch (twice when it reports `done`): with plain ssh each is a full handshake.
 * When the user gave git no ssh command of their own (GIT_SSH_COMMAND, GIT_SSH, core.sshCommand),
 * the host runs git with `ssh -o ControlMaster=auto …`: the first connection stays open as a master
 * (ControlPersist) and later ones ride on it. Its socket is in the host's work directory, in a
 * folder only the host's user can enter. A user's own command is left exactly as it is.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { shellQuote, traced } from '@orch/core';

/** How long a master outlives its last git command. */
export const CONTROL_PERSIST_S = 60;
/** The shortest `sun_path` among the systems orch runs on (macOS, BSD: 104; Linux: 108). */
const MAX_SOCKET_PATH = 104;
/** `%C` is a 40-hex hash; ssh binds `<path>.<16 random characters>` first, then renames it. */
const SOCKET_NAME_LEN = 40 + 17;

export interface SshEnvInput {
  /** The host's environment. */
  env: NodeJS.ProcessEnv;
  /** Whether git's configuration (system, global) sets core.sshCommand. */
  configured: boolean;
  /** Where the control sockets go (a folder of the host's work directory). */
  controlDir: string;
}

/**
 * GIT_SSH_COMMAND for the host's git, sharing one connection; undefined when the user set their
 * own ssh command, or when the socket's path would be too long for a unix socket (plain ssh then).
 */
export function sharedSshCommand(i: SshEnvInput): string | undefined {
  if (i.env.GIT_SSH_COMMAND || i.env.GIT_SSH || i.configured) return undefined;
  if (Buffer.byteLength(i.controlDir) + 1 + SOCKET_NAME_LEN > MAX_SOCKET_PATH) return undefined;
  // ssh's option syntax has no escape for a double quote.
  if (i.controlDir.includes('"')) return undefined;
  // ssh expands %-tokens in ControlPath: a literal % of the folder is doubled; quoted for spaces.
  const path = `${i.controlDir.replace(/%/g, '%%')}/%C`;
  return [
    'ssh',
    '-o',
    'ControlMaster=auto',
    '-o',
    shellQuote(`ControlPath="${path}"`),
    '-o',
    `ControlPersist=${CONTROL_PERSIST_S}`,
  ].join(' ');
}

/** The control folder, made (or tightened) to 0700. */
export async function prepareControlDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/** Asks every master in `dir` to exit (on the host's stop); best effort, bounded. */
export async function closeMasters(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names.map(
      (name) =>
        new Promise<void>((resolve) => {
          // The host name is only for ssh's token expansion: the socket is named outright.
          execFile(
            'ssh',
            ['-o', `ControlPath="${join(dir, name).replace(/%/g, '%%')}"`, '-O', 'exit', 'orch-host'],
            { timeout: 5_000 },
            (e) => {
              if (e) traced('host.ssh.exit')(e);
              resolve();
            },
          );
        }),
    ),
  );
}

/**
 * A git remote over SSH for a test: a real OpenSSH `sshd` (Debian's openssh-server) with a host key
 * and a client key the test generates (`ssh-keygen`), an `authorized_keys` whose one key may run
 * nothing but git (`restrict` and a forced `git-shell`), and `StrictModes` on. Clients get a
 * `known_hosts` with the generated host key and an `ssh_config` naming both files, used through
 * `GIT_SSH_COMMAND` (host keys are checked; the user's `~/.ssh` is never read or written).
 *
 *   const keys = await sshKeys(serverDir, clientDir, address);   // keys, known_hosts, ssh_config
 *   const sshd = await startSshd({ keys, address, spawn });       // `spawn` runs sshd where it must listen
 *   sshd.url('/abs/path/remote.git')                             // ssh://USER@ADDRESS:PORT/abs/path/remote.git
 *   keys.env                                                     // { GIT_SSH_COMMAND, GIT_SSH_VARIANT }
 *   await sshd.stop()
 *
 * The server refuses passwords, keyboard-interactive, forwarding, ttys and the user's environment.
 * When the tests run as root, it logs in as root only with a forced command (`PermitRootLogin
 * forced-commands-only`).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { shellQuotePath } from '@orch/core';
import { execa, type ResultPromise } from 'execa';

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
export const SSHD = '/usr/sbin/sshd';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface SshKeys {
  /** Files the server reads (private host key, authorized_keys, its config and log). */
  serverDir: string;
  /** Files the clients read (private client key, known_hosts, ssh_config); mount it read-only. */
  clientDir: string;
  user: string;
  address: string;
  port: number;
  /** `GIT_SSH_COMMAND` (ssh with the generated ssh_config) and `GIT_SSH_VARIANT`. */
  env: Record<string, string>;
  /**
   * The same, with the connections of one process tree sharing one SSH connection (OpenSSH's
   * ControlMaster, its socket in that process's /tmp): one handshake per host instead of three
   * per attempt.
   */
  sharedEnv: Record<string, string>;
  /** The ssh client's argv prefix, for a plain `ssh` (e.g. to check what the key may not do). */
  sshArgv: string[];
}

async function keygen(file: string, comment: string): Promise<string> {
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], {
    timeout: 10_000,
    stdin: 'ignore',
  });
  return (await readFile(`${file}.pub`, 'utf8')).trim();
}

/**
 * Generates the host key and the client key, and writes `authorized_keys` (server side) and
 * `known_hosts` + `ssh_config` (client side) for a server at `address:port`. Folders are made 0700.
 */
export async function sshKeys(opts: {
  serverDir: string;
  clientDir: string;
  address: string;
  port?: number;
}): Promise<SshKeys> {
  const { serverDir, clientDir, address } = opts;
  const port = opts.port ?? 22;
  const user = userInfo().username;
  await mkdir(serverDir, { recursive: true, mode: 0o700 });
  await mkdir(clientDir, { recursive: true, mode: 0o700 });
  const [hostPub, clientPub] = await Promise.all([
    keygen(join(serverDir, 'ssh_host_ed25519_key'), 'orch-test-host'),
    keygen(join(clientDir, 'id_ed25519'), 'orch-test-client'),
  ]);
  // The key may run git's own transport commands and nothing else.
  const forced = 'git-shell -c "$SSH_ORIGINAL_COMMAND"';
  await writeFile(
    join(serverDir, 'authorized_keys'),
    `restrict,command="${forced.replace(/"/g, '\\"')}" ${clientPub}\n`,
    { mode: 0o600 },
  );
  const [type, key] = hostPub.split(/\s+/);
  const hostName = port === 22 ? address : `[${address}]:${port}`;
  await writeFile(join(clientDir, 'known_hosts'), `${hostName} ${type} ${key}\n`, { mode: 0o600 });
  const config = join(clientDir, 'ssh_config');
  await writeFile(
    config,
    [
      'Host *',
      `  User ${user}`,
      `  Port ${port}`,
      `  IdentityFile ${join(clientDir, 'id_ed25519')}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${join(clientDir, 'known_hosts')}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  CheckHostIP no',
      '  UpdateHostKeys no',
      '  BatchMode yes',
      '  PasswordAuthentication no',
      '  KbdInteractiveAuthentication no',
      '  ConnectTimeout 5',
      '  ServerAliveInterval 5',
      '  ServerAliveCountMax 2',
      '  ControlMaster no',
      '  ControlPath none',
      '  LogLevel ERROR',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return {
    serverDir,
    clientDir,
    user,
    address,
    port,
    // git runs GIT_SSH_COMMAND with a shell.
    env: { GIT_SSH_COMMAND: `ssh -F ${shellQuotePath(config)}`, GIT_SSH_VARIANT: 'ssh' },
    sharedEnv: {
      GIT_SSH_COMMAND: `ssh -F ${shellQuotePath(config)} -o ControlMaster=auto -o ControlPath=/tmp/orch-ssh-%C -o ControlPersist=60`,
      GIT_SSH_VARIANT: 'ssh',
    },
    sshArgv: ['ssh', '-F', config],
  };
}

export interface Sshd {
  /** An ssh:// URL of the repository at `path` (absolute, as the server sees it). */
  url(path: string): string;
  /** The server's log (LogLevel VERBOSE: connections, keys accepted or refused). */
  log(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Writes sshd's config into `keys.serverDir` and starts `sshd -D` through `spawn` (which decides
 * where it runs: e.g. inside a network namespace, with `serverDir` and the repositories visible and
 * `/run/sshd` present). Resolves once sshd logs that it listens; bounded by 10 s.
 */
export async function startSshd(opts: {
  keys: SshKeys;
  spawn: (argv: string[]) => ResultPromise;
}): Promise<Sshd> {
  const { keys } = opts;
  const dir = keys.serverDir;
  const conf = join(dir, 'sshd_config');
  const logFile = join(dir, 'sshd.log');
  await writeFile(
    conf,
    [
      `ListenAddress ${keys.address}:${keys.port}`,
      `HostKey ${join(dir, 'ssh_host_ed25519_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'AuthorizedPrincipalsFile none',
      'PidFile none',
      `AllowUsers ${keys.user}`,
      keys.user === 'root' ? 'PermitRootLogin forced-commands-only' : 'PermitRootLogin no',
      'StrictModes yes',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitEmptyPasswords no',
      'UsePAM no',
      'AllowAgentForwarding no',
      'AllowTcpForwarding no',
      'AllowStreamLocalForwarding no',
      'X11Forwarding no',
      'PermitTTY no',
      'PermitTunnel no',
      'PermitUserEnvironment no',
      'PrintMotd no',
      'UseDNS no',
      // Many hosts fetch and push at once; the default starts dropping at 10 connections in flight.
      'MaxStartups 200',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  await writeFile(logFile, '', { mode: 0o600 });
  const child = opts.spawn([SSHD, '-D', '-f', conf, '-E', logFile]);
  let exited = false;
  void child.then(() => (exited = true));
  const log = async (): Promise<string> => (existsSync(logFile) ? readFile(logFile, 'utf8') : '');
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await child;
    clearTimeout(t);
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && !exited) {
    if ((await log()).includes('Server listening on')) {
      return {
        url: (path) => `ssh://${keys.user}@${keys.address}:${keys.port}${path}`,
        log,
        stop,
      };
    }
    await sleep(25);
  }
  await stop();
  const r = await child;
  throw new Error(`sshd did not start: ${String(r.stderr)}\n${await log()}`);
}

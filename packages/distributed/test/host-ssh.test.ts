/** The ssh command a host gives its own git: one shared connection, unless the user set their own. */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONTROL_PERSIST_S, prepareControlDir, sharedSshCommand } from '../src/host-ssh.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orch-host-ssh-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What ssh makes of the command as git runs it (with a shell), without connecting. */
async function sshSees(command: string): Promise<Record<string, string>> {
  const { stdout } = await promisify(execFile)('sh', ['-c', `${command} -G example.invalid`], {
    timeout: 10_000,
  });
  return Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => l.startsWith('control'))
      .map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]),
  );
}

describe("the host's shared ssh connection", () => {
  it('is used only when the user set no ssh command of their own', () => {
    const controlDir = join(dir, 'ssh');
    expect(sharedSshCommand({ env: {}, configured: false, controlDir })).toMatch(/^ssh /);
    for (const env of [{ GIT_SSH_COMMAND: 'ssh -i key' }, { GIT_SSH: '/usr/local/bin/my-ssh' }]) {
      expect(sharedSshCommand({ env, configured: false, controlDir })).toBeUndefined();
    }
    expect(sharedSshCommand({ env: {}, configured: true, controlDir })).toBeUndefined();
  });

  it('gives ssh a master, a control socket in the folder (spaces and % kept literally) and a persist time', async () => {
    const controlDir = join(dir, 'work dir 100%', 'ssh');
    const command = sharedSshCommand({ env: {}, configured: false, controlDir });
    expect(command).toBeDefined();
    const seen = await sshSees(command ?? '');
    expect(seen.controlmaster).toBe('auto');
    expect(seen.controlpersist).toBe(String(CONTROL_PERSIST_S));
    expect(seen.controlpath).toMatch(
      new RegExp(`^${controlDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[0-9a-f]{40}$`),
    );
  });

  it('falls back to plain ssh where the socket path would be too long or cannot be written', () => {
    const long = join(dir, 'x'.repeat(60), 'ssh');
    expect(sharedSshCommand({ env: {}, configured: false, controlDir: long })).toBeUndefined();
    expect(sharedSshCommand({ env: {}, configured: false, controlDir: '/tmp/a"b' })).toBeUndefined();
  });

  it('keeps the control folder to its owner', async () => {
    const controlDir = join(dir, 'ssh');
    await mkdir(controlDir, { mode: 0o755 });
    await prepareControlDir(controlDir);
    expect((await stat(controlDir)).mode & 0o777).toBe(0o700);
  });
});

/**
 * The multi-host harness itself (`test-utils/src/cluster.ts`): hosts as network namespaces on a
 * bridge, each process with a private view of the file system; Redis and a git remote over a real
 * sshd on their own namespace; killing a host, cleaning up, sweeping what a dead test left.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNet,
  netnsOf,
  netnsPids,
  orchBin,
  spawnIn,
  startCluster,
  sweepClusters,
  type Cluster,
} from '@orch/test-utils';

const run = async (cmd: string, args: string[], cwd?: string): Promise<string> =>
  (await promisify(execFile)(cmd, args, { cwd, timeout: 30_000 })).stdout.trim();
/** A process that has not exited (a zombie waiting to be reaped has). */
const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const identity = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@orch.invalid',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@orch.invalid',
};

let c: Cluster;
let seeded: { repo: string; base: string };

beforeAll(async () => {
  c = await startCluster({ hosts: 2 });
  seeded = await c.seed({ 'README.md': '# app\n' });
});

afterAll(async () => {
  await c?.cleanup();
});

describe('the multi-host harness', () => {
  it('a host reaches Redis over the bridge and the remote over SSH (git only, host key checked), and sees only its own folder', async () => {
    // Redis, as a host reaches it: over the bridge, with the password from the environment.
    expect(c.redis.url).toBe(`redis://${c.address('svc')}:6379/0`);
    const ping = await c.exec('h1', ['redis-cli', '-h', c.address('svc'), '-p', '6379', 'ping'], {
      env: { REDISCLI_AUTH: c.redis.password },
    });
    expect(ping.stdout.trim()).toBe('PONG');
    const noAuth = await c.exec('h1', ['redis-cli', '-h', c.address('svc'), '-p', '6379', 'ping']);
    expect(noAuth.stdout).toContain('NOAUTH');

    // Clone and push over SSH from h1; h2 sees the pushed branch.
    const work = join(c.dir('h1'), 'work');
    const clone = await c.exec('h1', ['git', 'clone', '-q', c.remote.url, work]);
    expect(clone.stderr).toBe('');
    expect(clone.exitCode).toBe(0);
    expect(existsSync(join(work, 'README.md'))).toBe(true);
    const commit = await c.exec(
      'h1',
      [
        'sh',
        '-c',
        'echo x > x.txt && git add x.txt && git commit -qm x && git push -q origin HEAD:refs/heads/feature',
      ],
      { cwd: work, env: identity },
    );
    expect(commit.stderr).toBe('');
    expect(commit.exitCode).toBe(0);
    const head = await run('git', ['rev-parse', 'HEAD'], work);
    expect(await c.remote.git('rev-parse', 'refs/heads/feature')).toBe(head);
    const seen = await c.exec('h2', ['git', 'ls-remote', c.remote.url, 'refs/heads/feature']);
    expect(seen.stdout.split(/\s/)[0]).toBe(head);

    // The generated key runs git and nothing else; an unknown host key is refused.
    const ssh = ['ssh', '-F', join(c.root, 'ssh-client', 'ssh_config'), c.address('svc')];
    const shell = await c.exec('h1', [...ssh, 'id']);
    expect(shell.exitCode).not.toBe(0);
    expect(shell.stdout).not.toContain('uid=');
    const stranger = await c.exec('h1', ['git', 'ls-remote', c.remote.url], {
      env: { GIT_SSH_COMMAND: `${c.gitEnv.GIT_SSH_COMMAND} -o UserKnownHostsFile=/dev/null` },
    });
    expect(stranger.exitCode).not.toBe(0);
    expect(stranger.stderr).toContain('Host key verification failed');

    // What h1 sees: its own folder (writable), the built orch (read-only), nothing of the rest.
    const visible = async (node: string, paths: string[]): Promise<string[]> =>
      (
        await c.exec(node, ['sh', '-c', 'for p; do test -e "$p" && echo "$p"; done; true', 'sh', ...paths])
      ).stdout
        .split('\n')
        .filter(Boolean);
    const home = homedir() !== '/' ? [homedir()] : [];
    const others = [seeded.repo, c.dir('sup'), c.dir('h2'), c.dir('svc'), ...home];
    expect(await visible('h1', [c.dir('h1'), orchBin(), ...others])).toEqual([c.dir('h1'), orchBin()]);
    expect(await visible('sup', [seeded.repo, c.dir('h1'), c.dir('svc')])).toEqual([seeded.repo]);
    expect((await c.exec('h1', ['touch', join(c.dir('h1'), 'mine')])).exitCode).toBe(0);
    expect((await c.exec('h1', ['touch', `${orchBin()}.x`])).exitCode).not.toBe(0);
    expect(existsSync(`${orchBin()}.x`)).toBe(false);
    expect((await c.exec('h1', ['hostname'])).stdout.trim()).toBe('h1');

    // The network: h1 has only lo and its bridge port; the machine's own namespace has no cluster address.
    const links = await c.exec('h1', ['ip', '-o', 'addr', 'show']);
    expect(new Set(links.stdout.split('\n').map((l) => l.split(/\s+/)[1]))).toEqual(new Set(['lo', 'eth0']));
    const prefix = c.address('h1').split('.').slice(0, 3).join('.');
    expect(await run('ip', ['-o', 'addr', 'show'])).not.toContain(`${prefix}.`);
  });

  it('killing a host kills every process in its namespace (daemons too) and deletes the namespace; a sweep removes a dead test process’s leftovers', async () => {
    const ns = `${c.id}-h2`;
    const child = c.spawn('h2', ['sh', '-c', 'setsid sleep 61 </dev/null >/dev/null 2>&1 & exec sleep 62']);
    let pids: number[] = [];
    for (const until = Date.now() + 10_000; Date.now() < until && pids.length < 2;) {
      pids = await netnsPids(ns);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(pids.length).toBeGreaterThanOrEqual(2);
    await c.kill('h2');
    await child;
    expect(await netnsPids(ns)).toEqual([]);
    expect(await netnsOf(c.id)).not.toContain(ns);
    expect(pids.filter(alive)).toEqual([]);
    expect(c.alive('h2')).toBe(false);
    expect(c.alive('h1')).toBe(true);

    // Leftovers of a test process that is gone: a namespace with a process in it, and its folder.
    const dead = spawnSync('true').pid ?? 0;
    expect(dead).toBeGreaterThan(0);
    const owner = `orcht-${dead}-abc123`;
    const net = await createNet({ owner, nodes: [{ name: 'h1' }] });
    const folder = await mkdtemp(join(tmpdir(), `orch-cluster-${dead}-`));
    const hostDir = join(folder, 'h1');
    await mkdir(hostDir);
    const stray = spawnIn(net.ns('h1'), ['sleep', '60'], {
      view: { writable: [hostDir] },
      env: { PATH: process.env.PATH ?? '/usr/bin' },
    });
    let strayPids: number[] = [];
    for (const until = Date.now() + 10_000; Date.now() < until && strayPids.length === 0;) {
      strayPids = await netnsPids(net.ns('h1'));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(strayPids.length).toBeGreaterThan(0);
    // (Another test file's cluster start may sweep them first: what counts is that they are gone.)
    await sweepClusters();
    await stray;
    expect(await netnsOf(owner)).toEqual([]);
    expect(existsSync(folder)).toBe(false);
    expect(strayPids.filter(alive)).toEqual([]);
    // This process's own cluster is alive and left alone.
    expect(await netnsOf(c.id)).toContain(`${c.id}-h1`);

    // Cleanup leaves nothing of the cluster.
    await c.cleanup();
    expect(await netnsOf(c.id)).toEqual([]);
    expect(existsSync(c.root)).toBe(false);
  });
});

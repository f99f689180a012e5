/**
 * Several machines on one: a cluster for multi-host tests, on Linux network namespaces (`netns.ts`)
 * and a real sshd (`sshd.ts`). Needs root, iproute2, bubblewrap, redis-server, openssh-server/client
 * and git (with git-shell); `.ci/run` installs them.
 *
 *   const c = await startCluster({ hosts: 3 });           // nodes: svc, sup, h1, h2, h3
 *   c.redis.url          redis://10.A.B.10:6379/0: the store as every node reaches it (over the bridge)
 *   c.redis.localUrl     redis://127.0.0.1:PORT/0: the same store from the test process (a loopback relay)
 *   c.redis.password     the password (give it as ORCH_REDIS_PASSWORD; c.env(node) has it)
 *   c.remote.url         ssh://root@10.A.B.10:22/…/remote.git: the shared git remote, over SSH
 *   c.remote.path        the bare repository itself, for the test's own reads (c.remote.git(...args))
 *   c.gitEnv             GIT_SSH_COMMAND (+ GIT_SSH_VARIANT) with the generated key and known_hosts
 *   c.gitEnvShared       the same, one SSH connection shared per process tree (ControlMaster)
 *   c.dir(node)          the node's own work directory: the only folder of the cluster it sees
 *   c.env(node)          a whole environment for a node: PATH, HOME (its dir), TMPDIR and TMUX_TMPDIR (its
 *                        dir's tmp/, shared by its processes), the store password, c.gitEnv
 *   await c.enroll()     every host's identity (`orch host --identity` inside the node, in its dir's
 *                        `host/`): { h1: line, … }, what `store.trusted_hosts` holds
 *   await c.seed(files)  a repository with one commit in the supervisor's folder, pushed to the
 *                        remote's main: { repo, base }; an `orch.yaml` next to it (not committed)
 *                        trusts every host (a checkout of its own needs `trustedHostsYaml(await
 *                        c.enroll())` written into it)
 *   await c.exec(node, argv, { cwd?, env?, timeoutMs? })   run to completion inside the node
 *   c.spawn(node, argv, opts)                              start without waiting (an execa promise;
 *                                                          it settles when the output pipes close, so
 *                                                          also when daemons the process left exit)
 *   await c.orch(node, args, opts) / c.spawnOrch(node, args, opts)   the built CLI inside the node
 *   c.startHost(node, { slots, lease, args?, env?, ssh? })  `orch host` on the node (its dir's `host/`);
 *                                                          `ssh: 'system'`: no GIT_SSH_COMMAND, the
 *                                                          node's /etc/ssh/ssh_config has the key
 *   await c.kill(node)   SIGKILL every process in the node's namespace, then delete the namespace
 *   await c.cleanup()    everything (also what a failed test left running); idempotent
 *
 * A distributed run across the cluster, once `orch run --store --remote` exists:
 *
 *   const c = await startCluster({ hosts: 3 });
 *   const { repo } = await c.seed({ 'tasks.yaml': plan, 'README.md': '# app\n' });
 *   for (const h of c.hosts) c.startHost(h, { slots: 2 });
 *   const run = c.spawnOrch('sup', ['run', 'tasks.yaml', '--no-tui', '--yes', '--store', c.redis.url,
 *     '--remote', c.remote.url], { cwd: repo });
 *   … await c.kill('h2') mid-run …
 *   expect((await run).exitCode).toBe(0);        // then read staging with c.remote.git(...)
 *
 * Layout. Namespaces `orcht-<pid>-<random>-{br,svc,sup,h1…}`: `br` holds only the bridge; `svc` runs
 * Redis and sshd (the git remote); `sup` (and `sup2`… with `supervisors`) is where a supervisor runs;
 * `h1…` are the worker hosts. Each node has `lo` and an address on the bridge, and each process it
 * runs gets a private mount namespace (bubblewrap) showing the system read-only, its own /tmp, /run
 * and home, its own work directory read-write, the built orch and the SSH client files read-only,
 * and nothing else: not the supervisor's repository, not the other nodes' folders, not the user's
 * home. The hosts' host name is their node name. The test process itself stays in the machine's own
 * namespaces and sees every folder (to assert on them); it reaches Redis through a relay on
 * 127.0.0.1 to Redis's unix socket, and never the bridge.
 *
 * Every wait is bounded; `startCluster` first sweeps what earlier test processes that died left
 * (namespaces and folders whose owner pid is gone), and a process exit deletes this process's
 * namespaces if `cleanup` did not run.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { orchBin, type CliResult } from './cli.js';
import { trustedHostsYaml } from './enroll.js';
import { createNet, execIn, netOwner, ownerPid, spawnIn, sweepNetns, type Net, type View } from './netns.js';
import { pingRedis } from './redis.js';
import { sshKeys, startSshd, type Sshd } from './sshd.js';

const DIR_PREFIX = 'orch-cluster-';
const REDIS_PORT = 6379;
const START_TIMEOUT_MS = 10_000;

export interface ClusterOptions {
  /** Worker hosts h1…hN (default 3). */
  hosts?: number;
  /** Supervisor nodes sup, sup2… (default 1). */
  supervisors?: number;
}

export interface NodeRunOptions {
  /** Default: the node's own folder. */
  cwd?: string;
  /** Added to (and overriding) `env(node)`. */
  env?: Record<string, string>;
  timeoutMs?: number;
  input?: string;
  /**
   * How git reaches the remote: `env` (default) with `gitEnv`'s GIT_SSH_COMMAND; `system` with the
   * machine's ssh configuration only (the generated `ssh_config` is the node's /etc/ssh/ssh_config),
   * as for a user who set up ssh once and gives orch nothing about it.
   */
  gitSsh?: 'env' | 'system';
}

export interface Cluster {
  /** The prefix of every namespace of this cluster. */
  id: string;
  /** The folder holding every node's folder (only the test process sees all of it). */
  root: string;
  hosts: string[];
  supervisors: string[];
  /** Every node: svc, the supervisors, the hosts. */
  nodes: string[];
  address(node: string): string;
  dir(node: string): string;
  redis: { url: string; localUrl: string; password: string };
  remote: { url: string; path: string; git: (...args: string[]) => Promise<string> };
  gitEnv: Record<string, string>;
  /** `gitEnv` with one shared SSH connection per process tree (ControlMaster). */
  gitEnvShared: Record<string, string>;
  env(node: string): Record<string, string>;
  exec(node: string, argv: string[], opts?: NodeRunOptions): Promise<CliResult>;
  spawn(node: string, argv: string[], opts?: NodeRunOptions): ResultPromise;
  orch(node: string, args: string[], opts?: NodeRunOptions): Promise<CliResult>;
  spawnOrch(node: string, args: string[], opts?: NodeRunOptions): ResultPromise;
  startHost(
    node: string,
    opts?: {
      slots?: number;
      lease?: number;
      args?: string[];
      env?: Record<string, string>;
      ssh?: 'env' | 'system';
    },
  ): ResultPromise;
  /** The hosts' identities as `store.trusted_hosts` holds them (made on the hosts once, reused). */
  enroll(): Promise<Record<string, string>>;
  seed(files: Record<string, string>): Promise<{ repo: string; base: string }>;
  /** True until `kill(node)`. */
  alive(node: string): boolean;
  kill(node: string): Promise<void>;
  cleanup(): Promise<void>;
}

const live = new Set<string>();
let exitHook = false;

/** At exit, whatever `cleanup` did not get to: kill and delete this process's namespaces. */
function hookExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const owner of live) {
      const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5_000 }).stdout ?? '';
      for (const ns of list.split('\n').map((l) => l.split(' ')[0] ?? '')) {
        if (!ns.startsWith(`${owner}-`)) continue;
        const pids =
          spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 5_000 }).stdout ?? '';
        for (const p of pids
          .split('\n')
          .map(Number)
          .filter((n) => n > 0)) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            // gone
          }
        }
        spawnSync('ip', ['netns', 'del', ns], { timeout: 5_000 });
      }
    }
  });
}

/** Leftovers of test processes that died: their namespaces (processes killed), then their folders. */
export async function sweepClusters(): Promise<string[]> {
  const gone = await sweepNetns();
  const tmp = tmpdir();
  for (const name of await readdir(tmp).catch(() => [] as string[])) {
    const pid = ownerPid(name, DIR_PREFIX);
    if (pid === undefined || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      await rm(join(tmp, name), { recursive: true, force: true }).catch(() => undefined);
      gone.push(join(tmp, name));
    }
  }
  return gone;
}

/** The checkout of orch whose build the nodes run (and its dependencies, if they live elsewhere). */
function orchMounts(): string[] {
  const root = resolve(dirname(orchBin()), '..', '..', '..');
  const out = [root];
  const modules = join(root, 'node_modules');
  if (existsSync(modules)) {
    const real = realpathSync(modules);
    if (!real.startsWith(`${root}/`)) out.push(real);
  }
  return out;
}

/** A TCP relay on 127.0.0.1 to a unix socket: the test process's way to Redis in the svc node. */
async function relay(socketPath: string): Promise<{ port: number; close: () => Promise<void> }> {
  const open = new Set<Socket>();
  const server: Server = createServer((down) => {
    const up = createConnection({ path: socketPath });
    open.add(down).add(up);
    const end = (): void => {
      down.destroy();
      up.destroy();
      open.delete(down);
      open.delete(up);
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    down.pipe(up);
    up.pipe(down);
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((res) => {
        for (const s of open) s.destroy();
        server.close(() => res());
      }),
  };
}

/** Starts a cluster: namespaces, Redis and sshd on `svc`, an empty bare remote. See the file header. */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  await sweepClusters();
  const hosts = Array.from({ length: opts.hosts ?? 3 }, (_, i) => `h${i + 1}`);
  const supervisors = Array.from({ length: opts.supervisors ?? 1 }, (_, i) =>
    i === 0 ? 'sup' : `sup${i + 1}`,
  );
  const nodes = ['svc', ...supervisors, ...hosts];
  const owner = netOwner();
  const root = await mkdtemp(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  const dirs = new Map(nodes.map((n) => [n, join(root, n)]));
  const dir = (node: string): string => {
    const d = dirs.get(node);
    if (!d) throw new Error(`no node ${JSON.stringify(node)} in this cluster`);
    return d;
  };
  const clientDir = join(root, 'ssh-client');
  const killed = new Set<string>();
  const stops: (() => Promise<unknown>)[] = [];
  let net: Net | undefined;
  live.add(owner);
  hookExit();

  const cleanup = async (): Promise<void> => {
    // The namespaces first: a daemon a process left (an ssh ControlMaster, a tmux server) holds its
    // parent's output pipes, and a child's promise resolves only when they close.
    await net?.destroy();
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
    live.delete(owner);
    await rm(root, { recursive: true, force: true });
  };

  try {
    for (const d of dirs.values()) await mkdir(join(d, 'tmp'), { recursive: true, mode: 0o700 });
    net = await createNet({ owner, nodes: nodes.map((name) => ({ name })) });
    const theNet = net;
    const svcAddr = net.address('svc');
    const password = randomBytes(16).toString('hex');
    const mounts = orchMounts();
    // The generated client configuration as each node's system-wide ssh_config (for `gitSsh: 'system'`).
    const systemSsh = existsSync('/etc/ssh/ssh_config')
      ? [{ from: join(clientDir, 'ssh_config'), to: '/etc/ssh/ssh_config' }]
      : [];

    const view = (node: string): View =>
      node === 'svc'
        ? // sshd wants its privilege separation folder, and the user's home to start a session in.
          { writable: [dir('svc')], emptyDirs: ['/run/sshd', userInfo().homedir], hostname: 'svc' }
        : { writable: [dir(node)], readOnly: [...mounts, clientDir], filesAt: systemSsh, hostname: node };
    let gitEnv: Record<string, string> = {};
    const env = (node: string, gitSsh: 'env' | 'system' = 'env'): Record<string, string> => ({
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: dir(node),
      // The node's temp folder is shared by its processes, like a machine's (each process's /tmp is private).
      TMPDIR: join(dir(node), 'tmp'),
      TMUX_TMPDIR: join(dir(node), 'tmp'),
      LANG: 'C.UTF-8',
      NO_COLOR: '1',
      ...(node === 'svc' ? {} : { ORCH_REDIS_PASSWORD: password, ...(gitSsh === 'env' ? gitEnv : {}) }),
    });
    const spawn = (node: string, argv: string[], o: NodeRunOptions = {}): ResultPromise =>
      spawnIn(theNet.ns(node), argv, {
        view: view(node),
        cwd: o.cwd ?? dir(node),
        env: { ...env(node, o.gitSsh), ...o.env },
        ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
        ...(o.input !== undefined ? { input: o.input } : {}),
      });
    const exec = (node: string, argv: string[], o: NodeRunOptions = {}): Promise<CliResult> =>
      execIn(theNet.ns(node), argv, {
        view: view(node),
        cwd: o.cwd ?? dir(node),
        env: { ...env(node, o.gitSsh), ...o.env },
        ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
        ...(o.input !== undefined ? { input: o.input } : {}),
      });

    // Redis: on the bridge for the nodes, on a unix socket for the test process's relay.
    const redisDir = join(dir('svc'), 'redis');
    await mkdir(redisDir, { mode: 0o700 });
    const sock = join(redisDir, 'redis.sock');
    const conf = join(redisDir, 'redis.conf');
    await writeFile(
      conf,
      [
        `bind ${svcAddr} 127.0.0.1`,
        `port ${REDIS_PORT}`,
        `unixsocket ${sock}`,
        'unixsocketperm 700',
        'protected-mode yes',
        `requirepass ${password}`,
        'save ""',
        'appendonly no',
        'daemonize no',
        'loglevel warning',
        `logfile ${join(redisDir, 'redis.log')}`,
        `dir ${redisDir}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const redisChild = spawn('svc', ['redis-server', conf]);
    stops.push(async () => {
      redisChild.kill('SIGKILL');
      await redisChild;
    });
    let redisUp = false;
    for (const until = Date.now() + START_TIMEOUT_MS; Date.now() < until && redisChild.exitCode === null;) {
      if (existsSync(sock) && (await pingRedis({ path: sock }, password))) {
        redisUp = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!redisUp)
      throw new Error(
        `redis-server did not start in the svc namespace: ${String((await redisChild).stderr)}`,
      );
    const relayed = await relay(sock);
    stops.push(relayed.close);

    // The git remote: a bare repository served by sshd on the svc node.
    const keys = await sshKeys({ serverDir: join(dir('svc'), 'ssh'), clientDir, address: svcAddr });
    gitEnv = keys.env;
    const remotePath = join(dir('svc'), 'git', 'remote.git');
    await mkdir(dirname(remotePath), { mode: 0o700 });
    await execa('git', ['init', '-q', '--bare', '-b', 'main', remotePath], { timeout: 10_000 });
    await execa('git', ['config', 'gc.auto', '0'], { cwd: remotePath, timeout: 10_000 });
    const sshd: Sshd = await startSshd({ keys, spawn: (argv) => spawn('svc', argv) });
    stops.push(sshd.stop);
    const remoteGit = async (...args: string[]): Promise<string> =>
      String((await execa('git', args, { cwd: remotePath, timeout: 30_000 })).stdout).trim();

    const orchArgv = (args: string[]): string[] => [process.execPath, orchBin(), ...args];
    /** The hosts' identity lines, asked for once (a host keeps its identity). */
    let enrolled: Promise<Record<string, string>> | undefined;
    const cluster: Cluster = {
      id: owner,
      root,
      hosts,
      supervisors,
      nodes,
      address: (node) => theNet.address(node),
      dir,
      redis: {
        url: `redis://${svcAddr}:${REDIS_PORT}/0`,
        localUrl: `redis://127.0.0.1:${relayed.port}/0`,
        password,
      },
      remote: { url: sshd.url(remotePath), path: remotePath, git: remoteGit },
      gitEnv: keys.env,
      gitEnvShared: keys.sharedEnv,
      env: (node) => env(node),
      exec,
      spawn,
      orch: (node, args, o) => exec(node, orchArgv(args), o),
      spawnOrch: (node, args, o) => spawn(node, orchArgv(args), o),
      startHost: (node, o = {}) => {
        if (!hosts.includes(node)) throw new Error(`${node} is not a host of this cluster`);
        const child = spawn(
          node,
          orchArgv([
            'host',
            '--store',
            cluster.redis.url,
            '--remote',
            cluster.remote.url,
            '--slots',
            String(o.slots ?? 1),
            '--workdir',
            join(dir(node), 'host'),
            '--name',
            node,
            '--lease',
            String(o.lease ?? 2),
            ...(o.args ?? []),
          ]),
          { ...(o.env ? { env: o.env } : {}), ...(o.ssh ? { gitSsh: o.ssh } : {}) },
        );
        stops.push(async () => {
          child.kill('SIGKILL');
          await child;
        });
        return child;
      },
      enroll: () =>
        (enrolled ??= (async () => {
          const out: Record<string, string> = {};
          for (const node of hosts) {
            const r = await exec(
              node,
              orchArgv(['host', '--identity', '--workdir', join(dir(node), 'host'), '--name', node]),
            );
            if (r.exitCode !== 0) throw new Error(`orch host --identity on ${node}: ${r.stderr}`);
            out[node] = r.stdout.trim();
          }
          return out;
        })()),
      seed: async (files) => {
        const trusted = trustedHostsYaml(await cluster.enroll());
        const repo = join(dir(supervisors[0] ?? 'sup'), 'repo');
        const git = async (...args: string[]): Promise<string> =>
          String((await execa('git', args, { cwd: repo, timeout: 30_000 })).stdout).trim();
        await mkdir(repo, { recursive: true });
        await git('init', '-q', '-b', 'main');
        for (const [k, v] of [
          ['user.name', 'orch test'],
          ['user.email', 'test@orch.invalid'],
          ['commit.gpgsign', 'false'],
          ['gc.auto', '0'],
        ] as const) {
          await git('config', k, v);
        }
        for (const [p, c] of Object.entries(files)) {
          await mkdir(dirname(join(repo, p)), { recursive: true });
          await writeFile(join(repo, p), c);
        }
        await git('add', '-A');
        await git('commit', '-q', '-m', 'initial');
        await git('push', '-q', remotePath, 'main');
        await git('remote', 'add', 'origin', cluster.remote.url);
        // The supervisor's config trusts the cluster's hosts (enrolled as a user does).
        await writeFile(join(repo, 'orch.yaml'), trusted);
        return { repo, base: await git('rev-parse', 'HEAD') };
      },
      alive: (node) => {
        dir(node);
        return !killed.has(node);
      },
      kill: async (node) => {
        killed.add(node);
        await theNet.kill(node);
      },
      cleanup,
    };
    return cluster;
  } catch (e) {
    await cleanup().catch(() => undefined);
    throw e;
  }
}

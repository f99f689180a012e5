/**
 * Machines on one machine, for multi-host tests: Linux network namespaces joined by a bridge, and a
 * private file-system view per process (bubblewrap, joining the namespace's network instead of
 * unsharing it). Needs root (`ip netns`), iproute2 and bubblewrap.
 *
 *   const net = await createNet({ owner: 'orcht-…', nodes: [{ name: 'h1', dir }] });
 *   net.address('h1')                      // 10.A.B.N, reachable from every other node of `net`
 *   spawnIn(net.ns('h1'), argv, { view })  // a process "on" h1 (see `View`)
 *   await net.kill('h1')                   // SIGKILL every process of h1's namespace, then delete it
 *   await net.destroy()                    // the same for every node, then the bridge
 *   await sweepNetns()                     // leftovers of a test process that died (by name prefix)
 *
 * Nothing touches the machine's own network: the bridge lives in a namespace of its own, each node
 * gets one end of a veth pair (`eth0`) and a /24 address, and only `lo` and `eth0` exist in a
 * node. Every namespace name starts with `orcht-<pid of the test process>-<random>-`, so two test
 * files running at once cannot collide, and a sweep can tell leftovers (their process is gone) from
 * another file's live cluster. The subnet is picked at random too; it could not clash anyway (every
 * node's stack is private), but distinct subnets keep a debugging session readable.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { lstatSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import type { CliResult } from './cli.js';

/** Every namespace the harness creates starts with this. */
export const NETNS_PREFIX = 'orcht-';
const IP_TIMEOUT_MS = 10_000;
const KILL_TIMEOUT_MS = 10_000;
const EXEC_TIMEOUT_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function ip(args: string[], opts: { okIfMissing?: boolean } = {}): Promise<string> {
  const r = await execa('ip', args, { timeout: IP_TIMEOUT_MS, reject: false, stdin: 'ignore' });
  if (r.exitCode === 0) return String(r.stdout);
  const err = String(r.stderr);
  if (opts.okIfMissing && /No such file|Cannot open network namespace|does not exist/i.test(err)) return '';
  throw new Error(`ip ${args.join(' ')} failed (exit ${r.exitCode}): ${err || r.message}`);
}

/** A fresh owner prefix for one cluster of this process: `orcht-<pid>-<random>`. */
export function netOwner(): string {
  return `${NETNS_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Fails early, with the reason, where network namespaces cannot be made. */
export function assertNetnsCapable(): void {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    throw new Error(
      'the multi-host harness needs Linux and root (it creates network namespaces with `ip netns`)',
    );
  }
}

export interface NodeSpec {
  /** Short node name: lowercase letters and digits, at most 8 (it is part of an interface name). */
  name: string;
}

export interface Net {
  /** The owner prefix of every namespace of this net. */
  owner: string;
  /** `10.A.B.0/24`. */
  subnet: string;
  ns(node: string): string;
  address(node: string): string;
  /** SIGKILL every process in the node's namespace (bounded wait until none is left), then delete it. */
  kill(node: string): Promise<void>;
  /** Kills and deletes every node, then the bridge. Safe to call twice. */
  destroy(): Promise<void>;
}

/** The pids in a namespace (`ip netns pids`); none when it does not exist. */
export async function netnsPids(ns: string): Promise<number[]> {
  const out = await ip(['netns', 'pids', ns], { okIfMissing: true });
  return out
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** SIGKILL everything in `ns` until nothing is left (bounded), then delete the namespace. */
export async function killNetns(ns: string): Promise<void> {
  const deadline = Date.now() + KILL_TIMEOUT_MS;
  for (;;) {
    const pids = await netnsPids(ns);
    if (pids.length === 0) break;
    if (Date.now() > deadline) throw new Error(`processes ${pids.join(', ')} in ${ns} did not die`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await sleep(50);
  }
  await ip(['netns', 'del', ns], { okIfMissing: true });
}

async function listNetns(): Promise<string[]> {
  return (await ip(['netns', 'list']))
    .split('\n')
    .map((l) => l.trim().split(/\s/)[0] ?? '')
    .filter((n) => n.startsWith(NETNS_PREFIX));
}

/** The namespaces of one owner (`orcht-<pid>-<random>`), nodes first and the bridge last. */
export async function netnsOf(owner: string): Promise<string[]> {
  const mine = (await listNetns()).filter((n) => n.startsWith(`${owner}-`));
  return [...mine.filter((n) => !n.endsWith('-br')), ...mine.filter((n) => n.endsWith('-br'))];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in an owner prefix or a name that starts with one, if any. */
export function ownerPid(name: string, prefix = NETNS_PREFIX): number | undefined {
  const m = new RegExp(`^${prefix}(\\d+)-`).exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Deletes the namespaces (and kills their processes) of test processes that are gone: what a
 * crashed or SIGKILLed test left behind. Live owners' namespaces are left alone. Returns the names.
 */
export async function sweepNetns(): Promise<string[]> {
  const stale = (await listNetns()).filter((n) => {
    const pid = ownerPid(n);
    return pid !== undefined && pid !== process.pid && !alive(pid);
  });
  const ordered = [...stale.filter((n) => !n.endsWith('-br')), ...stale.filter((n) => n.endsWith('-br'))];
  for (const ns of ordered) await killNetns(ns);
  return ordered;
}

/**
 * A bridge namespace `<owner>-br` with bridge `br0`, and per node a namespace `<owner>-<node>`
 * with `lo` up and `eth0` (a veth whose other end is on the bridge) at `10.A.B.(10 + i)/24`.
 * On any failure everything made so far is deleted.
 */
export async function createNet(opts: { owner: string; nodes: NodeSpec[] }): Promise<Net> {
  assertNetnsCapable();
  const { owner } = opts;
  const a = randomInt(200, 250);
  const b = randomInt(0, 256);
  const subnet = `10.${a}.${b}.0/24`;
  const bridge = `${owner}-br`;
  const addresses = new Map<string, string>();
  opts.nodes.forEach((n, i) => {
    if (!/^[a-z][a-z0-9]{0,7}$/.test(n.name)) throw new Error(`bad node name ${JSON.stringify(n.name)}`);
    if (addresses.has(n.name)) throw new Error(`node ${n.name} given twice`);
    addresses.set(n.name, `10.${a}.${b}.${10 + i}`);
  });
  const nsOf = (node: string): string => {
    if (!addresses.has(node)) throw new Error(`no node ${JSON.stringify(node)} in ${owner}`);
    return `${owner}-${node}`;
  };
  const destroy = async (): Promise<void> => {
    for (const ns of await netnsOf(owner)) await killNetns(ns);
  };
  try {
    await ip(['netns', 'add', bridge]);
    await ip(['-n', bridge, 'link', 'set', 'lo', 'up']);
    await ip(['-n', bridge, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', bridge, 'link', 'set', 'br0', 'up']);
    await Promise.all(
      opts.nodes.map(async (n) => {
        const ns = nsOf(n.name);
        const port = `v-${n.name}`;
        await ip(['netns', 'add', ns]);
        await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
        await ip(['-n', bridge, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
        await ip(['-n', bridge, 'link', 'set', port, 'master', 'br0', 'up']);
        await ip(['-n', ns, 'addr', 'add', `${addresses.get(n.name)}/24`, 'dev', 'eth0']);
        await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      }),
    );
  } catch (e) {
    await destroy().catch(() => undefined);
    throw e;
  }
  return {
    owner,
    subnet,
    ns: nsOf,
    address: (node) => {
      nsOf(node);
      return addresses.get(node) ?? '';
    },
    kill: (node) => killNetns(nsOf(node)),
    destroy,
  };
}

/**
 * What a process sees of the file system: a fresh root with the system read-only (`/usr`, `/etc`,
 * the `/bin`… links, `/sys` of its namespace), its own `/proc`, `/dev`, `/tmp` and `/run`, and only
 * the folders named here. Everything else, in particular the rest of the temp directory (the
 * supervisor's repository, the other hosts' folders) and the user's home, is not there.
 */
export interface View {
  /** Folders visible read-write, at the same path (the node's own work directory). */
  writable: string[];
  /** Folders visible read-only, at the same path (the built orch, a client key…). */
  readOnly?: string[];
  /** Empty folders made in the fresh root (e.g. `/run/sshd`, sshd's privilege separation; a home). */
  emptyDirs?: string[];
  /** Files shown read-only at another path, over what the system has there (a machine's ssh_config). */
  filesAt?: { from: string; to: string }[];
  /** The node's host name (its own UTS namespace). */
  hostname?: string;
}

function systemArgs(): string[] {
  const args = ['--ro-bind', '/usr', '/usr', '--ro-bind', '/etc', '/etc', '--ro-bind', '/sys', '/sys'];
  // Merged-/usr systems have these as symlinks; older ones as folders.
  for (const d of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    try {
      const st = lstatSync(d);
      if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(d), d);
      else if (st.isDirectory()) args.push('--ro-bind', d, d);
    } catch {
      // not on this system
    }
  }
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--tmpfs', '/run');
  const tmp = resolve(tmpdir());
  if (tmp !== '/tmp') args.push('--tmpfs', tmp);
  // Node itself, when it is not installed under /usr (nvm, a tarball in /opt).
  const prefix = dirname(dirname(process.execPath));
  if (!prefix.startsWith('/usr/') && prefix !== '/usr') args.push('--ro-bind', prefix, prefix);
  return args;
}

/** bubblewrap's arguments for `view` (the network namespace is the caller's: nothing is unshared but mounts and UTS). */
export function viewArgs(view: View, cwd: string): string[] {
  const args = systemArgs();
  for (const d of view.readOnly ?? []) args.push('--ro-bind', d, d);
  for (const d of view.writable) args.push('--bind', d, d);
  for (const d of view.emptyDirs ?? []) args.push('--perms', '0755', '--dir', d);
  for (const f of view.filesAt ?? []) args.push('--ro-bind', f.from, f.to);
  if (view.hostname) args.push('--unshare-uts', '--hostname', view.hostname);
  args.push('--die-with-parent', '--chdir', cwd);
  return args;
}

export interface SpawnInOptions {
  view: View;
  /** Default: the first writable folder. */
  cwd?: string;
  /** The whole environment (nothing of the test process's is inherited). */
  env: Record<string, string>;
  /** Kill after this long (default: never, for services; `execIn` defaults to 60 s). */
  timeoutMs?: number;
  input?: string;
}

/** Starts `argv` inside network namespace `ns` with the file-system view `view`. */
export function spawnIn(ns: string, argv: string[], opts: SpawnInOptions): ResultPromise {
  const cwd = opts.cwd ?? opts.view.writable[0] ?? '/';
  return execa('ip', ['netns', 'exec', ns, 'bwrap', ...viewArgs(opts.view, cwd), '--', ...argv], {
    env: opts.env,
    extendEnv: false,
    reject: false,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' }),
    ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
  });
}

/** Runs `argv` inside `ns` to completion (60 s at most by default); never rejects on a non-zero exit. */
export async function execIn(ns: string, argv: string[], opts: SpawnInOptions): Promise<CliResult> {
  const r = await spawnIn(ns, argv, { ...opts, timeoutMs: opts.timeoutMs ?? EXEC_TIMEOUT_MS });
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
}

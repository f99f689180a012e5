/**
 * A real `redis-server` (the Debian package) for one test: on 127.0.0.1, a free port, its own temp
 * directory, no persistence, and a random password that is written to its config file (0600) and
 * never put on a command line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type NetConnectOpts } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisFixture {
  /** `redis://127.0.0.1:PORT/0` (no password in it). */
  url: string;
  port: number;
  password: string;
  /** Stops the server (SIGTERM, then SIGKILL after a bounded wait) and removes its directory. */
  stop: () => Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One RESP round trip: AUTH then PING; true when the server answers PONG. `target` is a port on
 * 127.0.0.1, or where to connect (e.g. `{ path }` of a unix socket).
 */
export function pingRedis(target: number | NetConnectOpts, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection(typeof target === 'number' ? { host: '127.0.0.1', port: target } : target);
    let buf = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => {
      const pw = Buffer.from(password);
      sock.write(`*2\r\n$4\r\nAUTH\r\n$${pw.length}\r\n${password}\r\n*1\r\n$4\r\nPING\r\n`);
    });
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      if (buf.includes('+PONG')) done(true);
      else if (buf.includes('-')) done(false);
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function startOn(port: number, dir: string, password: string): Promise<ChildProcess | undefined> {
  const conf = join(dir, 'redis.conf');
  await writeFile(
    conf,
    [
      'bind 127.0.0.1',
      'protected-mode yes',
      `requirepass ${password}`,
      'save ""',
      'appendonly no',
      'daemonize no',
      'loglevel warning',
      `logfile ${join(dir, 'redis.log')}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const child = spawn('redis-server', [conf, '--port', String(port), '--dir', dir], {
    stdio: 'ignore',
  });
  let gone = false;
  child.once('exit', () => (gone = true));
  child.once('error', () => (gone = true));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && !gone) {
    if (await pingRedis(port, password)) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!gone) {
    child.kill('SIGKILL');
    await exited(child);
  }
  return undefined;
}

/** Starts a private redis-server; a port taken in the meantime is retried on another. */
export async function startRedis(): Promise<RedisFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'orch-redis-'));
  const password = randomBytes(16).toString('hex');
  for (let tries = 0; tries < 3; tries++) {
    const port = await freePort();
    const child = await startOn(port, dir, password);
    if (!child) continue;
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited(child);
        clearTimeout(t);
      }
      await rm(dir, { recursive: true, force: true });
    };
    return { url: `redis://127.0.0.1:${port}/0`, port, password, stop };
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error('redis-server did not start (is the redis-server package installed?)');
}

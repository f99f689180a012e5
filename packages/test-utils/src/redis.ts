/**
 * A real `redis-server` (the Debian package) for one test: on 127.0.0.1, a free port, its own temp
 * directory, no persistence, and a random password that is written to its config file (0600) and
 * never put on a command line. With `tls`, it listens with TLS only (`tls-port`), with a CA and
 * certificates made for the test with `openssl`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type NetConnectOpts, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';

export interface RedisFixture {
  /** `redis://127.0.0.1:PORT/0` (`rediss://` with TLS; no password in it). */
  url: string;
  port: number;
  password: string;
  /** With TLS: the files a client needs (its certificate is signed by the same CA). */
  tls?: TlsFiles;
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

/** PEM texts for a TLS client (the CA to trust, and a client certificate and key). */
export interface TlsPems {
  ca: string;
  cert: string;
  key: string;
}

/**
 * One RESP round trip: AUTH then PING; true when the server answers PONG. `target` is a port on
 * 127.0.0.1, or where to connect (e.g. `{ path }` of a unix socket); over TLS with `tls`.
 */
export function pingRedis(
  target: number | NetConnectOpts,
  password: string,
  tls?: TlsPems,
): Promise<boolean> {
  return new Promise((resolve) => {
    const sock: Socket =
      typeof target === 'number'
        ? tls
          ? // Readiness only: the CA is checked, the name is what the tests check themselves.
            tlsConnect({ host: '127.0.0.1', port: target, ...tls, checkServerIdentity: () => undefined })
          : createConnection({ host: '127.0.0.1', port: target })
        : createConnection(target);
    const ready = tls && typeof target === 'number' ? 'secureConnect' : 'connect';
    let buf = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.on('error', () => done(false));
    sock.on(ready, () => {
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

export interface TlsFiles {
  /** The CA that signed the server's (and the client's) certificate. */
  ca: string;
  /** A client certificate and its key (0600), for a server that asks for one. */
  clientCert: string;
  clientKey: string;
}

export interface RedisTlsOptions {
  /** The server asks every client for a certificate signed by the CA (`tls-auth-clients yes`). */
  requireClientCert?: boolean;
  /** The names in the server's certificate (default `IP:127.0.0.1` and `DNS:localhost`). */
  serverNames?: string[];
}

const openssl = async (cwd: string, args: string[]): Promise<void> => {
  try {
    await promisify(execFile)('openssl', args, { cwd });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`openssl ${args[0]} failed (is the openssl package installed?): ${why}`);
  }
};

/** A new CA (P-256 key, valid two days) in `dir`: `ca.crt` and its key `ca.key`. */
export async function makeTestCa(dir: string, name = 'orch test CA'): Promise<{ cert: string; key: string }> {
  await mkdir(dir, { recursive: true });
  const cnf = join(dir, 'ca.cnf');
  await writeFile(
    cnf,
    [
      '[req]',
      'distinguished_name = dn',
      'x509_extensions = ca',
      'prompt = no',
      '[dn]',
      `CN = ${name}`,
      '[ca]',
      'basicConstraints = critical,CA:TRUE',
      'keyUsage = critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(dir, [
    'req',
    '-x509',
    ...ec,
    '-config',
    cnf,
    '-days',
    '2',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  ]);
  return { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
}

/** A certificate signed by `ca` for `names` (`IP:…`/`DNS:…`), as `NAME.crt` and `NAME.key` (0600) in `dir`. */
async function signedCert(
  dir: string,
  ca: { cert: string; key: string },
  name: string,
  o: { names: string[]; usage: 'serverAuth' | 'clientAuth' },
): Promise<{ cert: string; key: string }> {
  const ext = join(dir, `${name}.ext`);
  await writeFile(
    ext,
    [
      'basicConstraints = CA:FALSE',
      'keyUsage = critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage = ${o.usage}`,
      ...(o.names.length > 0 ? [`subjectAltName = ${o.names.join(',')}`] : []),
      '',
    ].join('\n'),
  );
  const [key, csr, cert] = [`${name}.key`, `${name}.csr`, `${name}.crt`];
  await openssl(dir, [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    `/CN=orch-test-${name}`,
    '-keyout',
    key,
    '-out',
    csr,
  ]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  // openssl writes keys 0600 already on most systems; make sure (a client refuses a key others read).
  await writeFile(join(dir, key), await readFile(join(dir, key)), { mode: 0o600 });
  return { cert: join(dir, cert), key: join(dir, key) };
}

interface ServerTls {
  files: TlsFiles;
  serverCert: string;
  serverKey: string;
  requireClientCert: boolean;
}

async function makeServerTls(dir: string, o: RedisTlsOptions): Promise<ServerTls> {
  const tlsDir = join(dir, 'tls');
  const ca = await makeTestCa(tlsDir);
  const server = await signedCert(tlsDir, ca, 'server', {
    names: o.serverNames ?? ['IP:127.0.0.1', 'DNS:localhost'],
    usage: 'serverAuth',
  });
  const client = await signedCert(tlsDir, ca, 'client', { names: [], usage: 'clientAuth' });
  return {
    files: { ca: ca.cert, clientCert: client.cert, clientKey: client.key },
    serverCert: server.cert,
    serverKey: server.key,
    requireClientCert: o.requireClientCert === true,
  };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function startOn(
  port: number,
  dir: string,
  password: string,
  tls: ServerTls | undefined,
): Promise<ChildProcess | undefined> {
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
      ...(tls
        ? [
            `tls-cert-file ${tls.serverCert}`,
            `tls-key-file ${tls.serverKey}`,
            `tls-ca-cert-file ${tls.files.ca}`,
            `tls-auth-clients ${tls.requireClientCert ? 'yes' : 'no'}`,
          ]
        : []),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  // With TLS the plain port is off: only the TLS port listens.
  const ports = tls ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)];
  const child = spawn('redis-server', [conf, ...ports, '--dir', dir], { stdio: 'ignore' });
  const pems = tls
    ? {
        ca: await readFile(tls.files.ca, 'utf8'),
        cert: await readFile(tls.files.clientCert, 'utf8'),
        key: await readFile(tls.files.clientKey, 'utf8'),
      }
    : undefined;
  let gone = false;
  child.once('exit', () => (gone = true));
  child.once('error', () => (gone = true));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && !gone) {
    if (await pingRedis(port, password, pems)) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!gone) {
    child.kill('SIGKILL');
    await exited(child);
  }
  return undefined;
}

/**
 * Starts a private redis-server; a port taken in the meantime is retried on another. With `tls`
 * (true, or its options) it speaks TLS only, with certificates made for it in its directory.
 */
export async function startRedis(o: { tls?: boolean | RedisTlsOptions } = {}): Promise<RedisFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'orch-redis-'));
  const password = randomBytes(16).toString('hex');
  const tls = o.tls
    ? await makeServerTls(dir, o.tls === true ? {} : o.tls).catch(async (e: unknown) => {
        await rm(dir, { recursive: true, force: true });
        throw e;
      })
    : undefined;
  for (let tries = 0; tries < 3; tries++) {
    const port = await freePort();
    const child = await startOn(port, dir, password, tls);
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
    return {
      url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}/0`,
      port,
      password,
      ...(tls ? { tls: tls.files } : {}),
      stop,
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error('redis-server did not start (is the redis-server package installed?)');
}

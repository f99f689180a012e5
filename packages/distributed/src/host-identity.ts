/**
 * A worker host's identity and what it is used for. Each host keeps two key pairs in
 * `DIR/identity/` (a 0700 folder, 0600 files): an Ed25519 key it signs what it puts in the store
 * with, and an X25519 key the supervisor seals each attempt's secret (its token) to. The public
 * halves are one line (`formatHostIdentity`), which the user pastes into `store.trusted_hosts`.
 *
 * Sealing: X25519 between a fresh ephemeral key and the host's key, HKDF-SHA256 over the shared
 * secret (salted with both public keys), AES-256-GCM with the run/task/attempt/host as associated
 * data: a box opens only on its host, for that attempt. Signing: Ed25519 over a domain tag and the
 * fields, length-prefixed, so no two different field lists sign the same bytes.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  sign as edSign,
  verify as edVerify,
  type KeyObject,
} from 'node:crypto';
import { link, lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OrchError, parseHostIdentity, type HostPublicIdentity } from '@orch/core';
import { assertSafeName } from '@orch/store';

export { formatHostIdentity, parseHostIdentity, type HostPublicIdentity } from '@orch/core';

/** A host's private keys, with its public identity. */
export interface HostIdentity {
  readonly public: HostPublicIdentity;
  readonly signKey: KeyObject;
  readonly boxKey: KeyObject;
}

/** What a sealed secret is bound to: it opens only for this attempt on this host. */
export interface SealContext {
  run: string;
  task: string;
  attempt: number;
  host: string;
}

const SIGN_FILE = 'sign.key';
const BOX_FILE = 'box.key';
const SEAL_VERSION = 'v1';
const SIGN_TAG = 'orch-host-entry-v1';

/** The folder of a host's identity under its work directory. */
export function identityDir(workdir: string): string {
  return join(workdir, 'identity');
}

function rawPublic(key: KeyObject): string {
  const x = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new Error('not an OKP key');
  return x;
}

function publicKey(crv: 'Ed25519' | 'X25519', x: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv, x }, format: 'jwk' });
}

function identityError(message: string, hint: string): OrchError {
  return new OrchError('ERR_ORCH_HOST_IDENTITY', message, { hint });
}

/** Refuses a folder or key file that others than its owner can reach (or that is a symlink). */
async function assertPrivate(path: string, kind: 'folder' | 'file'): Promise<void> {
  const st = await lstat(path);
  const mode = kind === 'folder' ? '700' : '600';
  if (st.isSymbolicLink() || (kind === 'folder' ? !st.isDirectory() : !st.isFile())) {
    throw identityError(
      `the host identity ${kind} ${path} is not a plain ${kind}`,
      `Remove it; orch host makes a new identity (then enroll the host again).`,
    );
  }
  if ((st.mode & 0o077) !== 0) {
    throw identityError(
      `the host identity ${kind} ${path} can be read by others than its owner (mode ${(st.mode & 0o777).toString(8)})`,
      `Make it private: chmod ${mode} ${path}`,
    );
  }
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw identityError(
      `the host identity ${kind} ${path} belongs to another user`,
      'Run orch host as the user that owns its work directory.',
    );
  }
}

/** Writes a key file once: a host started twice at once ends up with one key, not two. */
async function writeOnce(path: string, pem: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, pem, { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    await rm(tmp, { force: true });
  }
}

async function loadKey(dir: string, file: string, type: 'ed25519' | 'x25519'): Promise<KeyObject> {
  const path = join(dir, file);
  if (!(await lstat(path).catch(() => undefined))) {
    const { privateKey } =
      type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('x25519');
    await writeOnce(path, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  }
  await assertPrivate(path, 'file');
  let key: KeyObject;
  try {
    key = createPrivateKey(await readFile(path, 'utf8'));
  } catch {
    throw identityError(
      `the host key ${path} cannot be read as a private key`,
      'Remove the identity folder; orch host makes a new identity (then enroll the host again).',
    );
  }
  if (key.asymmetricKeyType !== type) {
    throw identityError(
      `the host key ${path} is not an ${type} key`,
      'Remove the identity folder; orch host makes a new identity (then enroll the host again).',
    );
  }
  return key;
}

/**
 * The host's identity in `DIR/identity/`, made on first use and reused after. Refuses key files
 * (or a folder) that others can read.
 */
export async function loadHostIdentity(workdir: string, name: string): Promise<HostIdentity> {
  assertSafeName(name, 'host name');
  const dir = identityDir(workdir);
  await mkdir(workdir, { recursive: true });
  await mkdir(dir, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
  await assertPrivate(dir, 'folder');
  const signKey = await loadKey(dir, SIGN_FILE, 'ed25519');
  const boxKey = await loadKey(dir, BOX_FILE, 'x25519');
  return { public: { name, sign: rawPublic(signKey), box: rawPublic(boxKey) }, signKey, boxKey };
}

/** The trusted identities of a config's `store.trusted_hosts` (validated there already). */
export function trustedHosts(map: Readonly<Record<string, string>>): Map<string, HostPublicIdentity> {
  const out = new Map<string, HostPublicIdentity>();
  for (const [name, line] of Object.entries(map)) {
    const p = parseHostIdentity(line);
    if (p.ok && p.identity.name === name) out.set(name, p.identity);
  }
  return out;
}

function sealAad(c: SealContext): Buffer {
  return Buffer.from(JSON.stringify(['orch-seal-v1', c.run, c.task, c.attempt, c.host]));
}

function sealKey(shared: Buffer, eph: Buffer, to: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([eph, to]), 'orch-seal-v1', 32));
}

/** Seals `secret` to a host: `v1.<base64url of ephemeral key | nonce | tag | ciphertext>`. */
export function sealFor(secret: string, to: HostPublicIdentity, ctx: SealContext): string {
  const hostKey = publicKey('X25519', to.box);
  const { privateKey, publicKey: ephPub } = generateKeyPairSync('x25519');
  const eph = Buffer.from(rawPublic(ephPub), 'base64url');
  const shared = diffieHellman({ privateKey, publicKey: hostKey });
  const key = sealKey(shared, eph, Buffer.from(to.box, 'base64url'));
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(sealAad({ ...ctx, host: to.name }));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  const box = Buffer.concat([eph, nonce, cipher.getAuthTag(), body]);
  return `${SEAL_VERSION}.${box.toString('base64url')}`;
}

/** The secret in a box sealed to this host for this attempt; undefined when it does not open. */
export function openSealed(
  box: string,
  me: HostIdentity,
  ctx: Omit<SealContext, 'host'>,
): string | undefined {
  const [version, text, extra] = box.split('.');
  if (version !== SEAL_VERSION || text === undefined || extra !== undefined) return undefined;
  const raw = Buffer.from(text, 'base64url');
  if (raw.length < 32 + 12 + 16 + 1) return undefined;
  try {
    const eph = raw.subarray(0, 32);
    const shared = diffieHellman({
      privateKey: me.boxKey,
      publicKey: publicKey('X25519', eph.toString('base64url')),
    });
    const key = sealKey(shared, eph, Buffer.from(me.public.box, 'base64url'));
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(32, 44));
    decipher.setAAD(sealAad({ ...ctx, host: me.public.name }));
    decipher.setAuthTag(raw.subarray(44, 60));
    return Buffer.concat([decipher.update(raw.subarray(60)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

function signedBytes(fields: readonly string[]): Buffer {
  const parts = [SIGN_TAG, ...fields].map((f) => {
    const b = Buffer.from(f, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  });
  return Buffer.concat(parts);
}

/** The host's signature (base64url) over what an entry says. */
export function signFields(me: HostIdentity, fields: readonly string[]): string {
  return edSign(null, signedBytes(fields), me.signKey).toString('base64url');
}

/** True when `sig` is the host's signature over exactly these fields. */
export function verifyFields(host: HostPublicIdentity, fields: readonly string[], sig: string): boolean {
  if (!/^[A-Za-z0-9_-]{86}$/.test(sig)) return false;
  try {
    return edVerify(
      null,
      signedBytes(fields),
      publicKey('Ed25519', host.sign),
      Buffer.from(sig, 'base64url'),
    );
  } catch {
    return false;
  }
}

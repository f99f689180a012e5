/**
 * A worker host's public identity as one line (`orch host --identity` prints it; config
 * `store.trusted_hosts` holds it per host name): a versioned prefix, the host's Ed25519 key (what it
 * signs its entries with), its X25519 key (what attempts' secrets are sealed to), both raw 32-byte
 * keys in base64url, and its name last (a name may hold any character but `/`, `\`, control ones).
 */
export const HOST_IDENTITY_PREFIX = 'orch-host-v1';

export interface HostPublicIdentity {
  name: string;
  /** Ed25519 public key, raw, base64url. */
  sign: string;
  /** X25519 public key, raw, base64url. */
  box: string;
}

/** 32 bytes in base64url without padding: 43 characters, the last one holding 4 bits. */
const KEY = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
// eslint-disable-next-line no-control-regex -- control characters are what a name may not hold
const NOT_IN_NAME = /[/\\\u0000-\u001f\u007f]/;

export function formatHostIdentity(id: HostPublicIdentity): string {
  return `${HOST_IDENTITY_PREFIX}:${id.sign}:${id.box}:${id.name}`;
}

/** The identity a line holds, or why it is not one. */
export function parseHostIdentity(
  line: string,
): { ok: true; identity: HostPublicIdentity } | { ok: false; reason: string } {
  const parts = line.trim().split(':');
  if (parts[0] !== HOST_IDENTITY_PREFIX) {
    return { ok: false, reason: `it does not start with "${HOST_IDENTITY_PREFIX}:"` };
  }
  const [, sign = '', box = ''] = parts;
  const name = parts.slice(3).join(':');
  if (!KEY.test(sign) || !KEY.test(box))
    return { ok: false, reason: 'its keys are not two 32-byte base64url keys' };
  if (name.length === 0 || name.length > 128 || NOT_IN_NAME.test(name) || name.includes('..')) {
    return { ok: false, reason: 'it names no valid host' };
  }
  return { ok: true, identity: { name, sign, box } };
}

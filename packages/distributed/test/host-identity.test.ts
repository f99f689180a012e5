import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Config, formatHostIdentity, parseHostIdentity } from '@orch/core';
import {
  identityDir,
  loadHostIdentity,
  openSealed,
  sealFor,
  signFields,
  verifyFields,
  type HostIdentity,
} from '../src/host-identity.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orch-hostid-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ctx = { run: 'r1', task: 'a', attempt: 1 };
const flip = (s: string, at: number): string =>
  s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);

describe('host identity', () => {
  it('is made once in a private folder and reused; its line parses back', async () => {
    const a = await loadHostIdentity(join(dir, 'h1'), 'h1');
    const again = await loadHostIdentity(join(dir, 'h1'), 'h1');
    expect(again.public).toEqual(a.public);
    expect((await stat(identityDir(join(dir, 'h1')))).mode & 0o777).toBe(0o700);
    for (const f of ['sign.key', 'box.key']) {
      expect((await stat(join(identityDir(join(dir, 'h1')), f))).mode & 0o777).toBe(0o600);
    }
    const line = formatHostIdentity(a.public);
    expect(line.startsWith('orch-host-v1:')).toBe(true);
    expect(parseHostIdentity(line)).toEqual({ ok: true, identity: a.public });
    const other = await loadHostIdentity(join(dir, 'h2'), 'h2');
    expect(other.public.sign).not.toBe(a.public.sign);
  });

  it('refuses a key file or folder others can read, with a chmod hint', async () => {
    const wd = join(dir, 'h1');
    await loadHostIdentity(wd, 'h1');
    await chmod(join(identityDir(wd), 'sign.key'), 0o644);
    await expect(loadHostIdentity(wd, 'h1')).rejects.toMatchObject({
      code: 'ERR_ORCH_HOST_IDENTITY',
      hint: expect.stringContaining(`chmod 600 ${join(identityDir(wd), 'sign.key')}`),
    });
    await chmod(join(identityDir(wd), 'sign.key'), 0o600);
    await chmod(identityDir(wd), 0o755);
    await expect(loadHostIdentity(wd, 'h1')).rejects.toMatchObject({
      code: 'ERR_ORCH_HOST_IDENTITY',
      hint: expect.stringContaining('chmod 700'),
    });
  });

  it('a config with a malformed or misnamed identity is refused naming the key', async () => {
    const a = await loadHostIdentity(join(dir, 'h1'), 'h1');
    const good = formatHostIdentity(a.public);
    expect(Config.parse({ store: { trusted_hosts: { h1: good } } }).store.trusted_hosts).toEqual({
      h1: good,
    });
    for (const bad of [
      good.replace('orch-host-v1', 'orch-host-v9'),
      good.slice(0, 40),
      `${good.slice(0, 20)}!${good.slice(21)}`,
    ]) {
      const r = Config.safeParse({ store: { trusted_hosts: { h1: bad } } });
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]?.path).toEqual(['store', 'trusted_hosts', 'h1']);
    }
    const misnamed = Config.safeParse({ store: { trusted_hosts: { h2: good } } });
    expect(misnamed.error?.issues[0]?.message).toContain('of host "h1"');
  });
});

describe('sealing an attempt secret to a host', () => {
  let h1: HostIdentity;
  let h2: HostIdentity;
  beforeEach(async () => {
    h1 = await loadHostIdentity(join(dir, 'h1'), 'h1');
    h2 = await loadHostIdentity(join(dir, 'h2'), 'h2');
  });

  it('opens on its host for its attempt only', () => {
    const box = sealFor('00ff'.repeat(8), h1.public, { ...ctx, host: 'h1' });
    expect(box).not.toContain('00ff');
    expect(openSealed(box, h1, ctx)).toBe('00ff'.repeat(8));
    // Another host, another attempt, task or run: it does not open.
    expect(openSealed(box, h2, ctx)).toBeUndefined();
    expect(openSealed(box, h1, { ...ctx, attempt: 2 })).toBeUndefined();
    expect(openSealed(box, h1, { ...ctx, task: 'b' })).toBeUndefined();
    expect(openSealed(box, h1, { ...ctx, run: 'r2' })).toBeUndefined();
    // A box sealed to h2's key but named for h1 does not open on h1 nor on h2 (the host is bound).
    const crossed = sealFor('s', { ...h2.public, name: 'h1' }, { ...ctx, host: 'h1' });
    expect(openSealed(crossed, h2, ctx)).toBeUndefined();
    expect(openSealed(crossed, h1, ctx)).toBeUndefined();
  });

  it('every flipped character of a box, and garbage, fails to open', () => {
    const box = sealFor('secret', h1.public, { ...ctx, host: 'h1' });
    for (let i = 3; i < box.length; i += 1) expect(openSealed(flip(box, i), h1, ctx)).toBeUndefined();
    for (const junk of ['', 'v1.', 'v2.' + box.slice(3), `${box}.x`, 'v1.AAAA']) {
      expect(openSealed(junk, h1, ctx)).toBeUndefined();
    }
  });
});

describe('signing host entries', () => {
  it('verifies with the signer key only, over exactly the signed fields', async () => {
    const h1 = await loadHostIdentity(join(dir, 'h1'), 'h1');
    const h2 = await loadHostIdentity(join(dir, 'h2'), 'h2');
    const fields = ['placed', 'r1', 'a', '1', 'h1'];
    const sig = signFields(h1, fields);
    expect(verifyFields(h1.public, fields, sig)).toBe(true);
    expect(verifyFields(h2.public, fields, sig)).toBe(false);
    expect(verifyFields(h1.public, ['placed', 'r1', 'a', '2', 'h1'], sig)).toBe(false);
    // Moving a boundary between fields changes what is signed.
    expect(verifyFields(h1.public, ['placed', 'r1', 'a1', '', 'h1'], sig)).toBe(false);
    expect(verifyFields(h1.public, fields, flip(sig, 10))).toBe(false);
    expect(verifyFields(h1.public, fields, '')).toBe(false);
    expect(await readFile(join(identityDir(join(dir, 'h1')), 'sign.key'), 'utf8')).toContain('PRIVATE KEY');
  });
});

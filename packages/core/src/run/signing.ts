/**
 * Journal line signatures: `{"a":1}` is written as `{"a":1,"mac":"<HMAC-SHA256 of {"a":1}>"}`,
 * still one JSON object per line. Pure (the key is passed in): the store reads and writes the key.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const MAC_TAIL = /,"mac":"([0-9a-f]{64})"\}$/;

export function macHex(key: Uint8Array, data: string): string {
  return createHmac('sha256', key).update(data, 'utf8').digest('hex');
}

/** Constant-time comparison of two secrets. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The line for the JSON object `json`, with its MAC. */
export function signLine(key: Uint8Array, json: string): string {
  return `${json.slice(0, -1)},"mac":"${macHex(key, json)}"}`;
}

/** The signed JSON of a line, or undefined when its MAC is missing or wrong. */
export function verifyLine(key: Uint8Array | undefined, line: string): string | undefined {
  const m = MAC_TAIL.exec(line);
  if (!key || !m) return undefined;
  const json = `${line.slice(0, m.index)}}`;
  return sameSecret(macHex(key, json), m[1] as string) ? json : undefined;
}

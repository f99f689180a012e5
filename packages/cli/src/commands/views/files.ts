/** Reading worker logs and reports for the views: tails of files, kept inside the repository. */
import { open } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';

/** Bytes read from the end of a log for a tail; enough for a screen of long lines. */
const TAIL_BYTES = 64 * 1024;

/**
 * Resolves a path from the journal (absolute, or relative to the repository) and returns it only
 * when it stays inside `root`: journal contents are written by workers and are not trusted.
 */
export function pathInside(root: string, p: string | undefined): string | undefined {
  if (!p) return undefined;
  const full = isAbsolute(p) ? resolve(p) : resolve(root, p);
  const rel = relative(root, full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return full;
}

/** The last `lines` lines of a file (`[]` when it does not exist). */
export async function tailFile(path: string, lines: number): Promise<string[]> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - TAIL_BYTES);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    const all = buf.toString('utf8').replace(/\r\n/g, '\n').split('\n');
    // A partial first line (cut by the byte window) and the empty string after a final newline go.
    if (start > 0) all.shift();
    if (all.at(-1) === '') all.pop();
    return lines > 0 ? all.slice(-lines) : [];
  } finally {
    await fh.close();
  }
}

/** A report as display lines: JSON is laid out as `key: value` lines, other text is kept as is. */
export function reportLines(text: string, max = 40): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text.split('\n').slice(0, max);
  }
  const out: string[] = [];
  const walk = (v: unknown, indent: string, key: string): void => {
    if (out.length >= max) return;
    const label = key ? `${key}: ` : '';
    if (v === null || typeof v !== 'object') {
      const s = typeof v === 'string' ? (v.split('\n')[0] ?? '') : String(v);
      out.push(`${indent}${label}${s}`);
      return;
    }
    if (Array.isArray(v) && v.length === 0) {
      out.push(`${indent}${label}[]`);
      return;
    }
    if (key) out.push(`${indent}${key}:`);
    const inner = key ? `${indent}  ` : indent;
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, inner, `- ${i + 1}`));
    else for (const [k, item] of Object.entries(v)) walk(item, inner, k);
  };
  walk(value, '', '');
  return out;
}

/**
 * The shared context of a repository (`.orchestrator/context/knowledge.json`): facts that workers
 * and the supervisor record for each other (naming rules, approved dependencies, decisions).
 * Every write is a read-modify-write under a file lock, written atomically.
 */
import { join } from 'node:path';
import { OrchError, withFileLock } from '@orch/core';
import { readJsonFile, writeJsonAtomic } from './atomic.js';
import { orchPaths } from './paths.js';

export interface ContextEntry {
  value: unknown;
  addedBy: string;
  addedAt: string;
  updatedAt: string;
}

export interface ContextFile {
  version: 1;
  createdAt: string;
  updatedAt: string;
  entries: Record<string, ContextEntry>;
}

/** The fields of a plan task that select context (works with parsed and raw plans). */
export interface ContextTask {
  id: string;
  description?: string;
  files_write?: string[];
  files_read?: string[];
  context_keys?: string[];
}

export const CONTEXT_MAX_VALUE_BYTES = 256 * 1024;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const STOP_WORDS = new Set(
  (
    'with that this from will should must have into when then than they them their there these those ' +
    'also only each every make made uses used using need needs what which while where about after ' +
    'before other more most some such your just like been were does done file files code task tasks ' +
    'implement implements add adds create creates update updates write writes test tests'
  ).split(' '),
);
/** Path components too generic to say anything about a task. */
const GENERIC_DIRS = new Set(['src', 'lib', 'app', 'test', 'tests', 'packages', 'index', 'main', 'dist']);

/** A context key: 1-200 printable characters (the same rule wherever the context is kept). */
export function assertKey(key: string): string {
  if (typeof key !== 'string' || key.trim() === '' || key.length > 200 || CONTROL.test(key)) {
    throw new OrchError('ERR_ORCH_INVALID_KEY', `invalid context key ${JSON.stringify(key)}`, {
      hint: 'A key is 1-200 printable characters, for example `api.auth.token-format`.',
    });
  }
  return key;
}

/**
 * The entry of `key`, else a dotted path into an entry's value (`api.auth` → entry `api`, field
 * `auth`), the longest entry name first; `entry` looks one name up wherever the entries are kept.
 */
export async function resolveContextKey(
  key: string,
  entry: (name: string) => ContextEntry | undefined | Promise<ContextEntry | undefined>,
): Promise<ContextEntry | undefined> {
  const direct = await entry(key);
  if (direct) return direct;
  const parts = key.split('.');
  for (let i = parts.length - 1; i > 0; i--) {
    const base = await entry(parts.slice(0, i).join('.'));
    if (!base) continue;
    let v: unknown = base.value;
    for (const p of parts.slice(i)) {
      if (v === null || typeof v !== 'object' || !Object.hasOwn(v, p)) return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    return { ...base, value: v };
  }
  return undefined;
}

/** The entries whose key or value contains `query` (case-insensitive). */
export function searchContext(
  entries: Record<string, ContextEntry>,
  query: string,
): Record<string, ContextEntry> {
  const q = query.toLowerCase();
  const out: Record<string, ContextEntry> = {};
  for (const [k, e] of Object.entries(entries)) {
    if (k.toLowerCase().includes(q) || JSON.stringify(e.value).toLowerCase().includes(q)) out[k] = e;
  }
  return out;
}

/** Parses a command-line value: JSON when it is JSON, the text itself otherwise. */
export function parseContextValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export class ContextStore {
  readonly file: string;
  readonly lockFile: string;

  constructor(repoRoot: string) {
    const dir = orchPaths(repoRoot).contextDir;
    this.file = join(dir, 'knowledge.json');
    this.lockFile = join(dir, 'knowledge.lock');
  }

  private async load(): Promise<ContextFile> {
    const f = await readJsonFile<ContextFile>(this.file);
    if (f && typeof f.entries === 'object' && f.entries !== null) return f;
    const now = new Date().toISOString();
    return { version: 1, createdAt: now, updatedAt: now, entries: {} };
  }

  private mutate<T>(fn: (f: ContextFile, now: string) => T): Promise<T> {
    return withFileLock(this.lockFile, async () => {
      const f = await this.load();
      const now = new Date().toISOString();
      const out = fn(f, now);
      f.updatedAt = now;
      await writeJsonAtomic(this.file, f);
      return out;
    });
  }

  async set(key: string, value: unknown, opts: { from?: string } = {}): Promise<ContextEntry> {
    assertKey(key);
    const size = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
    if (value === undefined || size > CONTEXT_MAX_VALUE_BYTES) {
      throw new OrchError(
        'ERR_ORCH_INVALID_VALUE',
        `context value for ${key} is empty or over ${CONTEXT_MAX_VALUE_BYTES} bytes`,
        {
          hint: 'Store a short fact; point to a file of the repository for long content.',
        },
      );
    }
    return this.mutate((f, now) => {
      const prev = f.entries[key];
      const entry: ContextEntry = {
        value,
        addedBy: opts.from ?? prev?.addedBy ?? 'user',
        addedAt: prev?.addedAt ?? now,
        updatedAt: now,
      };
      f.entries[key] = entry;
      return entry;
    });
  }

  /** The entry of `key`; else a dotted path into an entry's value (`api.auth` → entry `api`, field `auth`). */
  async get(key: string): Promise<ContextEntry | undefined> {
    assertKey(key);
    const { entries } = await this.load();
    return resolveContextKey(key, (k) => entries[k]);
  }

  async list(): Promise<Record<string, ContextEntry>> {
    return (await this.load()).entries;
  }

  /** Entries whose key or value contains `query` (case-insensitive). */
  async search(query: string): Promise<Record<string, ContextEntry>> {
    return searchContext(await this.list(), query);
  }

  /** True when the key existed. */
  async delete(key: string): Promise<boolean> {
    assertKey(key);
    return this.mutate((f) => {
      const had = Object.hasOwn(f.entries, key);
      delete f.entries[key];
      return had;
    });
  }

  /**
   * The entries relevant to a task, as Markdown for its prompt ('' when none): its `context_keys`,
   * then keys or text values containing a keyword of its description, then keys containing a
   * component of its paths.
   */
  async getForTask(taskId: string, plan: { tasks: readonly ContextTask[] }): Promise<string> {
    const task = plan.tasks.find((t) => t.id === taskId);
    if (!task) {
      throw new OrchError('ERR_ORCH_UNKNOWN_TASK', `task ${JSON.stringify(taskId)} is not in the plan`, {
        hint: `Tasks: ${plan.tasks.map((t) => t.id).join(', ')}`,
      });
    }
    return renderContextForTask(task, await this.list());
  }
}

export function selectContextKeys(task: ContextTask, entries: Record<string, ContextEntry>): string[] {
  const picked = new Set<string>();
  const keys = Object.keys(entries).sort();
  for (const k of task.context_keys ?? []) if (entries[k]) picked.add(k);

  const words = (task.description ?? '').toLowerCase().match(/[a-z0-9_]{4,}/g) ?? [];
  const keywords = [...new Set(words.filter((w) => !STOP_WORDS.has(w)))].slice(0, 5);
  for (const k of keys) {
    const lk = k.toLowerCase();
    const v = entries[k]?.value;
    const text = typeof v === 'string' ? v.toLowerCase() : '';
    if (keywords.some((w) => lk.includes(w) || text.includes(w))) picked.add(k);
  }

  const components = new Set<string>();
  for (const p of [...(task.files_write ?? []), ...(task.files_read ?? [])]) {
    for (const c of p.toLowerCase().split('/')) {
      const stem = c.replace(/\.[^.]*$/, '');
      for (const part of [c, stem]) {
        if (part.length >= 3 && !GENERIC_DIRS.has(part) && !part.includes('*')) components.add(part);
      }
    }
  }
  for (const k of keys) {
    const lk = k.toLowerCase();
    if ([...components].some((c) => lk.includes(c))) picked.add(k);
  }
  return [...picked];
}

export function renderContextForTask(task: ContextTask, entries: Record<string, ContextEntry>): string {
  const keys = selectContextKeys(task, entries);
  if (keys.length === 0) return '';
  const parts = ['## Relevant Project Context', ''];
  for (const k of keys) {
    const v = entries[k]?.value;
    parts.push(`### ${k}`, '');
    if (typeof v === 'string') parts.push(v);
    else parts.push('```json', JSON.stringify(v, null, 2), '```');
    parts.push('');
  }
  return parts.join('\n');
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContextStore, parseContextValue } from '../src/context.js';
import { runFixture, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

describe('ContextStore', () => {
  it('sets, gets, lists, searches and deletes JSON and text values', async () => {
    const c = new ContextStore(dir);
    await c.set('api.dates', 'ISO 8601 strings in UTC', { from: 'api' });
    await c.set('db', { engine: 'sqlite', pool: { size: 4 } }, { from: 'db' });
    expect((await c.get('api.dates'))?.value).toBe('ISO 8601 strings in UTC');
    expect((await c.get('api.dates'))?.addedBy).toBe('api');
    expect((await c.get('db.pool.size'))?.value).toBe(4);
    expect(await c.get('db.nope')).toBeUndefined();
    expect(Object.keys(await c.list()).sort()).toEqual(['api.dates', 'db']);
    expect(Object.keys(await c.search('SQLITE'))).toEqual(['db']);
    expect(await c.delete('db')).toBe(true);
    expect(await c.delete('db')).toBe(false);
    const file = JSON.parse(await readFile(join(dir, '.orchestrator/context/knowledge.json'), 'utf8')) as {
      version: number;
      entries: Record<string, unknown>;
    };
    expect(file.version).toBe(1);
    expect(Object.keys(file.entries)).toEqual(['api.dates']);
  });

  it('keeps addedAt and updates updatedAt on overwrite', async () => {
    const c = new ContextStore(dir);
    const a = await c.set('k', 1, { from: 'x' });
    const b = await c.set('k', 2);
    expect(b.addedAt).toBe(a.addedAt);
    expect(b.addedBy).toBe('x');
    expect(b.value).toBe(2);
  });

  it('parses command-line values as JSON when they are JSON', () => {
    expect(parseContextValue('{"a":1}')).toEqual({ a: 1 });
    expect(parseContextValue('42')).toBe(42);
    expect(parseContextValue('plain words')).toBe('plain words');
  });

  it('refuses bad keys', async () => {
    const c = new ContextStore(dir);
    await expect(c.set('', 1)).rejects.toMatchObject({ code: 'ERR_ORCH_INVALID_KEY' });
    await expect(c.set('a\nb', 1)).rejects.toMatchObject({ code: 'ERR_ORCH_INVALID_KEY' });
  });

  it('loses no write when 6 processes set keys at once', async () => {
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => runFixture('context-set.mjs', [dir, `p${i}`, '15'])),
    );
    expect(Object.keys(await new ContextStore(dir).list())).toHaveLength(90);
  });

  it('selects entries for a task by context_keys, description keywords and path components', async () => {
    const c = new ContextStore(dir);
    await c.set('naming', 'camelCase everywhere');
    await c.set('auth.tokens', { format: 'JWT', ttl: 3600 });
    await c.set('billing.rules', 'invoices are immutable');
    await c.set('unrelated', 'nothing to see');
    await c.set('session-store', 'redis');
    const plan = {
      tasks: [
        {
          id: 'login',
          description: 'Implement the login flow using invoices', // "invoices" matches a value
          files_write: ['src/auth/login.ts'],
          files_read: ['src/session.ts'],
          context_keys: ['naming', 'missing'],
        },
        { id: 'other', description: 'with that from' },
      ],
    };
    const md = await c.getForTask('login', plan);
    expect(md.startsWith('## Relevant Project Context')).toBe(true);
    expect(md).toContain('### naming\n\ncamelCase everywhere');
    expect(md).toContain('### auth.tokens');
    expect(md).toContain('"format": "JWT"');
    expect(md).toContain('### billing.rules');
    expect(md).toContain('### session-store');
    expect(md).not.toContain('unrelated');
    expect(md.indexOf('### naming')).toBeLessThan(md.indexOf('### billing.rules'));
    expect(await c.getForTask('other', plan)).toBe('');
    await expect(c.getForTask('nope', plan)).rejects.toMatchObject({ code: 'ERR_ORCH_UNKNOWN_TASK' });
  });
});

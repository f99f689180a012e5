/**
 * The shared context of a distributed run as one Redis hash (field: the key; value: the entry's
 * JSON), with the API of the file `ContextStore` (`@orch/store`). A write is one script, so two
 * writers of one key never lose `addedAt`/`addedBy`; the selection for a task is the store's own.
 */
import {
  CONTEXT_MAX_VALUE_BYTES,
  assertKey,
  renderContextForTask,
  resolveContextKey,
  searchContext,
  type ContextEntry,
  type ContextStore,
  type ContextTask,
} from '@orch/store';
import { OrchError } from '@orch/core';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** KEYS: hash. ARGV: key, value JSON, from ('' keeps the previous), now. Returns the entry's JSON. */
const SET = `
local prev = redis.call('HGET', KEYS[1], ARGV[1])
local addedBy = ARGV[3]
local addedAt = ARGV[4]
if prev then
  local p = cjson.decode(prev)
  if addedBy == '' then addedBy = p.addedBy end
  addedAt = p.addedAt
end
if addedBy == '' then addedBy = 'user' end
local entry = '{"value":' .. ARGV[2] .. ',"addedBy":' .. cjson.encode(addedBy) .. ',"addedAt":' .. cjson.encode(addedAt) .. ',"updatedAt":' .. cjson.encode(ARGV[4]) .. '}'
redis.call('HSET', KEYS[1], ARGV[1], entry)
return entry
`;

function parseEntry(text: string | null | undefined): ContextEntry | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as ContextEntry;
  } catch {
    return undefined;
  }
}

/** What commands use of the context store: the file `ContextStore` and `RedisContextStore` both offer it. */
export type ContextApi = Pick<ContextStore, 'set' | 'get' | 'list' | 'search' | 'delete' | 'getForTask'>;

export class RedisContextStore implements ContextApi {
  private readonly hash: string;

  constructor(
    private readonly redis: Redis,
    keys: Keys,
  ) {
    this.hash = keys.context();
  }

  async set(key: string, value: unknown, opts: { from?: string } = {}): Promise<ContextEntry> {
    assertKey(key);
    const json = JSON.stringify(value);
    const size = Buffer.byteLength(json ?? '', 'utf8');
    if (value === undefined || size > CONTEXT_MAX_VALUE_BYTES) {
      throw new OrchError(
        'ERR_ORCH_INVALID_VALUE',
        `context value for ${key} is empty or over ${CONTEXT_MAX_VALUE_BYTES} bytes`,
        { hint: 'Store a short fact; point to a file of the repository for long content.' },
      );
    }
    const now = new Date().toISOString();
    const out = (await this.redis.eval(SET, 1, this.hash, key, json, opts.from ?? '', now)) as string;
    return JSON.parse(out) as ContextEntry;
  }

  /** The entry of `key`; else a dotted path into an entry's value, as the file store. */
  async get(key: string): Promise<ContextEntry | undefined> {
    assertKey(key);
    return resolveContextKey(key, async (k) => parseEntry(await this.redis.hget(this.hash, k)));
  }

  async list(): Promise<Record<string, ContextEntry>> {
    const all = await this.redis.hgetall(this.hash);
    const out: Record<string, ContextEntry> = {};
    for (const [k, v] of Object.entries(all)) {
      const e = parseEntry(v);
      if (e) out[k] = e;
    }
    return out;
  }

  async search(query: string): Promise<Record<string, ContextEntry>> {
    return searchContext(await this.list(), query);
  }

  async delete(key: string): Promise<boolean> {
    assertKey(key);
    return (await this.redis.hdel(this.hash, key)) === 1;
  }

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

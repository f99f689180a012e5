/**
 * A real redis-server for one test file (started before its tests, stopped after them) and
 * connections to it, every one closed with the server.
 */
import { afterAll, beforeAll } from 'vitest';
import { startRedis, type RedisFixture } from '@orch/test-utils';
import type { Redis } from 'ioredis';
import { connectStore, storeFromUrl } from '../src/connection.js';

export function redisForFile(): { readonly url: string; connect(): Promise<Redis> } {
  let server: RedisFixture | undefined;
  const conns: Redis[] = [];
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const c of conns) c.disconnect();
    await server?.stop();
  });
  const started = (): RedisFixture => {
    if (!server) throw new Error('redis-server is not started yet (use it inside a test)');
    return server;
  };
  return {
    get url() {
      return started().url;
    },
    async connect() {
      const { url, password } = started();
      const c = await connectStore(await storeFromUrl(url, { ORCH_REDIS_PASSWORD: password }));
      conns.push(c);
      return c;
    },
  };
}

/**
 * A second connection for a blocking read (XREAD BLOCK, BLPOP). The store's connections connect
 * lazily and queue nothing while offline (a command fails fast instead), so a plain duplicate
 * refuses every command it is given; this one connects at once and holds its first command until
 * it is up.
 */
import type { Redis } from 'ioredis';

export function blockingConnection(redis: Redis): Redis {
  const conn = redis.duplicate({ lazyConnect: false, enableOfflineQueue: true });
  // Failures show in the command that waits on it; the event must not crash the process.
  conn.on('error', () => {});
  return conn;
}

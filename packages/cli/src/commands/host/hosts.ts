import { common, defineCommand, opt } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

export const hosts = defineCommand({
  name: 'hosts',
  description: 'The hosts serving a distributed store: slots, running attempts and heartbeat age',
  options: {
    store: opt.requiredText(
      '--store <url>',
      'the Redis store, redis://HOST:PORT/DB (password: ORCH_REDIS_PASSWORD)',
    ),
    json: common.json('print the hosts as JSON'),
  },
  examples: ['orch hosts --store redis://127.0.0.1:6379/0 --json'],
  async handler({ opts }, io) {
    const { connectStore, keysFor, listHosts, storeFromUrl } = await import('@orch/distributed');
    const store = await storeFromUrl(opts.store, io.env);
    const redis = await connectStore(store);
    try {
      const list = await listHosts(redis, keysFor(store.prefix));
      if (opts.json) return { exitCode: ExitCode.Ok, json: list };
      if (list.length === 0) return { exitCode: ExitCode.Ok, lines: ['no hosts'] };
      const rows = list.map((h) => [
        h.name,
        String(h.slots),
        String(h.active),
        `${(h.heartbeatAgeMs / 1000).toFixed(1)}s`,
      ]);
      const head = ['HOST', 'SLOTS', 'LOAD', 'HEARTBEAT'];
      const widths = head.map((t, i) => Math.max(t.length, ...rows.map((r) => (r[i] ?? '').length)));
      const fmt = (r: string[]): string =>
        r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd();
      return { exitCode: ExitCode.Ok, lines: [fmt(head), ...rows.map(fmt)] };
    } finally {
      redis.disconnect();
    }
  },
});

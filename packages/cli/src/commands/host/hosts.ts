import { common, defineCommand, opt } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

type Trust = 'yes' | 'no' | 'unknown';

/**
 * What the config of the repository here trusts (`store.trusted_hosts`); undefined when there is
 * no config to judge by (not in a repository, or its config does not load).
 */
async function trustedHere(cwd: string): Promise<Record<string, string> | undefined> {
  const [{ loadConfig }, { Repo }] = await Promise.all([import('@orch/core'), import('@orch/git')]);
  try {
    return (await loadConfig((await Repo.open(cwd)).root)).store.trusted_hosts;
  } catch {
    return undefined;
  }
}

export const hosts = defineCommand({
  name: 'hosts',
  description:
    'The hosts serving a distributed store: slots, running attempts, heartbeat age, and whether the config here trusts them',
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
      const trusted = await trustedHere(io.cwd);
      const trust = (name: string, identity: string | undefined): Trust =>
        trusted === undefined
          ? 'unknown'
          : identity !== undefined && trusted[name] === identity
            ? 'yes'
            : 'no';
      const list = (await listHosts(redis, keysFor(store.prefix))).map((h) => ({
        ...h,
        trusted: trust(h.name, h.identity),
      }));
      if (opts.json) return { exitCode: ExitCode.Ok, json: list };
      if (list.length === 0) return { exitCode: ExitCode.Ok, lines: ['no hosts'] };
      const rows = list.map((h) => [
        h.name,
        String(h.slots),
        String(h.active),
        `${(h.heartbeatAgeMs / 1000).toFixed(1)}s`,
        h.trusted,
        h.gaveBack ? `gave a job back: ${h.gaveBack}` : '',
      ]);
      const head = ['HOST', 'SLOTS', 'LOAD', 'HEARTBEAT', 'TRUSTED', 'NOTE'];
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

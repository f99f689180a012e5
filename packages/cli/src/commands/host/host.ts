import { resolve } from 'node:path';
import { ExitCode, OrchError } from '@orch/core/errors';
import { common, defineCommand, opt, parse } from '../../define.js';

export const host = defineCommand({
  name: 'host',
  description: "Serve a distributed run's task attempts on this machine until stopped (SIGINT/SIGTERM)",
  options: {
    store: opt.text('--store <url>', 'the Redis store, redis://HOST:PORT/DB (password: ORCH_REDIS_PASSWORD)'),
    remote: opt.text('--remote <url>', 'the shared git remote the supervisor and every host use'),
    slots: opt.parsedWithDefault('--slots <n>', 'attempts to run at once', parse.positiveInt, 1),
    workdir: opt.requiredText('--workdir <dir>', "this host's clone, worktrees, logs and identity"),
    name: opt.text('--name <name>', 'the host name in `orch hosts` (default: the machine name)'),
    lease: opt.parsedWithDefault(
      '--lease <seconds>',
      'an attempt whose host stops renewing its lock this long is handed to another host',
      parse.seconds,
      30,
    ),
    identity: opt.flag(
      '--identity',
      "print this host's public identity (made on first use) for store.trusted_hosts, and exit",
    ),
    json: common.json('with --identity: print the identity as JSON'),
  },
  examples: [
    'orch host --identity --workdir /var/lib/orch-host --name builder-1',
    'ORCH_REDIS_PASSWORD_FILE=~/.config/orch/redis.pass orch host --store redis://10.0.0.5:6379/0 --remote ssh://git@repo/app.git --slots 4 --workdir /var/lib/orch-host',
  ],
  async handler({ opts }, io) {
    const workdir = resolve(io.cwd, opts.workdir);
    if (opts.identity) {
      const { formatHostIdentity, loadHostIdentity } = await import('@orch/distributed');
      const { hostname } = await import('node:os');
      const me = await loadHostIdentity(workdir, opts.name ?? hostname());
      const line = formatHostIdentity(me.public);
      if (opts.json) return { exitCode: ExitCode.Ok, json: { name: me.public.name, identity: line } };
      return {
        exitCode: ExitCode.Ok,
        lines: [line],
        notes: [
          `add it to store.trusted_hosts of the runs this host may serve, as  ${me.public.name}: <the line>`,
        ],
      };
    }
    if (opts.store === undefined || opts.remote === undefined) {
      throw new OrchError(
        'ERR_ORCH_USAGE',
        `orch host needs ${opts.store === undefined ? '--store' : '--remote'}`,
        {
          hint: 'Give --store redis://HOST:PORT/DB and --remote GIT_URL (or --identity to print the host identity).',
          exitCode: ExitCode.Usage,
        },
      );
    }
    const { Host, formatHostIdentity, storeFromUrl } = await import('@orch/distributed');
    const store = await storeFromUrl(opts.store, io.env);
    // The workers must not inherit the store's password through the host's tmux server.
    delete process.env.ORCH_REDIS_PASSWORD;
    const h = new Host({
      store,
      remote: opts.remote,
      slots: opts.slots,
      workdir,
      ...(opts.name ? { name: opts.name } : {}),
      lockMs: Math.max(1_000, Math.round(opts.lease * 1000)),
      onNotice: (line) => io.stderr.write(`${line}\n`),
    });
    await h.start();
    io.stderr.write(`orch host ${h.name}: serving ${opts.slots} slot(s) from ${opts.store}\n`);
    io.stderr.write(
      `orch host ${h.name}: identity ${formatHostIdentity(h.identity.public)} (add it to store.trusted_hosts of the runs this host may serve)\n`,
    );
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    // Running attempts are left to BullMQ's stalled-job check, which hands them to another host.
    await h.stop({ force: true });
    return { exitCode: ExitCode.Ok };
  },
});

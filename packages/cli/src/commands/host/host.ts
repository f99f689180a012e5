import { resolve } from 'node:path';
import { defineCommand, opt, parse } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

export const host = defineCommand({
  name: 'host',
  description: "Serve a distributed run's task attempts on this machine until stopped (SIGINT/SIGTERM)",
  options: {
    store: opt.requiredText(
      '--store <url>',
      'the Redis store, redis://HOST:PORT/DB (password: ORCH_REDIS_PASSWORD)',
    ),
    remote: opt.requiredText('--remote <url>', 'the shared git remote the supervisor and every host use'),
    slots: opt.parsedWithDefault('--slots <n>', 'attempts to run at once', parse.positiveInt, 1),
    workdir: opt.requiredText('--workdir <dir>', "this host's clone, worktrees and logs"),
    name: opt.text('--name <name>', 'the host name in `orch hosts` (default: the machine name)'),
    lease: opt.parsedWithDefault(
      '--lease <seconds>',
      'an attempt whose host stops renewing its lock this long is handed to another host',
      parse.seconds,
      30,
    ),
  },
  examples: [
    'ORCH_REDIS_PASSWORD_FILE=~/.config/orch/redis.pass orch host --store redis://10.0.0.5:6379/0 --remote ssh://git@repo/app.git --slots 4 --workdir /var/lib/orch-host',
  ],
  async handler({ opts }, io) {
    const { Host, storeFromUrl } = await import('@orch/distributed');
    const store = await storeFromUrl(opts.store, io.env);
    // The workers must not inherit the store's password through the host's tmux server.
    delete process.env.ORCH_REDIS_PASSWORD;
    const h = new Host({
      store,
      remote: opts.remote,
      slots: opts.slots,
      workdir: resolve(io.cwd, opts.workdir),
      ...(opts.name ? { name: opts.name } : {}),
      lockMs: Math.max(1_000, Math.round(opts.lease * 1000)),
    });
    await h.start();
    io.stderr.write(`orch host ${h.name}: serving ${opts.slots} slot(s) from ${opts.store}\n`);
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    // Running attempts are left to BullMQ's stalled-job check, which hands them to another host.
    await h.stop({ force: true });
    return { exitCode: ExitCode.Ok };
  },
});
